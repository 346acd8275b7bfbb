//! Data set files (SPEC §9).
//!
//! - **`.npz`** (NumPy `savez`/`savez_compressed`): arrays `x` (`N × d`) and `y` (`N × k`, or
//!   `N` for one output or for class labels), optional `w` (`N`, per-sample weights).
//! - **`.npy` pairs**: `X.npy,Y.npy` (two paths joined by a comma).
//! - **CSV**: a header naming every column; columns whose names start with `x` are inputs,
//!   with `y` targets, a column named `w` holds per-sample weights (e.g. `x1,x2,y`).
//!
//! - **IDX** (MNIST, FashionMNIST; gzipped or not): `IMAGES,LABELS` (e.g.
//!   `train-images-idx3-ubyte.gz,train-labels-idx1-ubyte.gz`), or the images alone as a query
//!   set; recognised by `idx` or `ubyte` in the file name ([`super::image_data`]).
//! - **CIFAR-10 binary batches**: one or more `*.bin` files joined by commas.
//!
//! Arrays may be float64 (the native type), float32 or integers (converted exactly), in C or
//! Fortran order. Writers produce float64 `.npz` (uncompressed), `.npy` pairs or CSV with
//! 17 significant digits, atomically.

use std::fmt;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use npyz::{NpyFile, Order, TypeChar, WriterBuilder};

use super::atomic::write_atomic_with;
use crate::error::{Error, Result};
use crate::net::Dataset;

/// Where a data set lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataSource {
    /// A `.npz` archive with `x`, `y` (and optionally `w`).
    Npz(PathBuf),
    /// Two `.npy` files: inputs and targets.
    NpyPair {
        /// Inputs.
        x: PathBuf,
        /// Targets.
        y: PathBuf,
    },
    /// A CSV file with a header.
    Csv(PathBuf),
    /// IDX images (`N × rows × cols`) and optionally their IDX labels.
    Idx {
        /// The images.
        images: PathBuf,
        /// The labels (one-hot targets); without them the targets are one zero column.
        labels: Option<PathBuf>,
    },
    /// CIFAR-10 binary batches, concatenated in this order.
    Cifar(Vec<PathBuf>),
}

impl DataSource {
    /// Recognises the format from the path(s): `*.npz`, `X.npy,Y.npy`, `*.csv`,
    /// `IMAGES[,LABELS]` in IDX, `*.bin[,*.bin…]` CIFAR-10 batches.
    pub fn parse(text: &str) -> Result<Self> {
        if text.contains(',') {
            let parts: Vec<PathBuf> = text.split(',').map(|p| PathBuf::from(p.trim())).collect();
            if parts.iter().all(|p| is_cifar(p)) {
                return Ok(DataSource::Cifar(parts));
            }
            if let [x, y] = &parts[..] {
                if has_ext(x, "npy") && has_ext(y, "npy") {
                    return Ok(DataSource::NpyPair {
                        x: x.clone(),
                        y: y.clone(),
                    });
                }
                if is_idx(x) && is_idx(y) {
                    return Ok(DataSource::Idx {
                        images: x.clone(),
                        labels: Some(y.clone()),
                    });
                }
            }
            return Err(Error::invalid(
                "data",
                format!(
                    "`{text}`: paths joined by commas must be X.npy,Y.npy, IDX images,labels or CIFAR-10 .bin batches"
                ),
            ));
        }
        let p = PathBuf::from(text);
        if is_idx(&p) {
            Ok(DataSource::Idx {
                images: p,
                labels: None,
            })
        } else if is_cifar(&p) {
            Ok(DataSource::Cifar(vec![p]))
        } else if has_ext(&p, "npz") {
            Ok(DataSource::Npz(p))
        } else if has_ext(&p, "csv") {
            Ok(DataSource::Csv(p))
        } else if has_ext(&p, "npy") {
            Err(Error::invalid(
                "data",
                format!("`{text}`: give .npy data as a pair X.npy,Y.npy"),
            ))
        } else {
            Err(Error::invalid(
                "data",
                format!(
                    "`{text}`: unknown data format (use .npz, X.npy,Y.npy, .csv, IDX images[,labels] or CIFAR-10 .bin)"
                ),
            ))
        }
    }

    /// The main path (for messages).
    pub fn path(&self) -> &Path {
        match self {
            DataSource::Npz(p) | DataSource::Csv(p) => p,
            DataSource::NpyPair { x, .. } => x,
            DataSource::Idx { images, .. } => images,
            DataSource::Cifar(p) => &p[0],
        }
    }
}

impl fmt::Display for DataSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataSource::Npz(p) | DataSource::Csv(p) => write!(f, "{}", p.display()),
            DataSource::NpyPair { x, y } => write!(f, "{},{}", x.display(), y.display()),
            DataSource::Idx { images, labels } => {
                write!(f, "{}", images.display())?;
                match labels {
                    Some(l) => write!(f, ",{}", l.display()),
                    None => Ok(()),
                }
            }
            DataSource::Cifar(p) => {
                let names: Vec<String> = p.iter().map(|p| p.display().to_string()).collect();
                write!(f, "{}", names.join(","))
            }
        }
    }
}

/// The file name without a trailing `.gz`, lower case.
fn stem_name(p: &Path) -> String {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name.strip_suffix(".gz").map(str::to_string).unwrap_or(name)
}

/// IDX files by name: `idx` or `ubyte` in it (MNIST's `train-images-idx3-ubyte.gz`).
fn is_idx(p: &Path) -> bool {
    let n = stem_name(p);
    n.contains("idx") || n.ends_with("ubyte")
}

/// CIFAR-10 binary batches by name: `*.bin` (gzipped or not).
fn is_cifar(p: &Path) -> bool {
    stem_name(p).ends_with(".bin")
}

fn has_ext(p: &Path, ext: &str) -> bool {
    p.extension()
        .is_some_and(|e| e.to_string_lossy().eq_ignore_ascii_case(ext))
}

/// A 2-D float64 array read from a file (row-major).
struct Array {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

/// Reads a data set; every error names the offending file.
pub fn read_data(source: &DataSource) -> Result<Dataset> {
    match source {
        DataSource::Npz(p) => read_npz(p).map_err(|e| e.in_file(p)),
        DataSource::NpyPair { x, y } => {
            let xa = read_npy_file(x).map_err(|e| e.in_file(x))?;
            let ya = read_npy_file(y).map_err(|e| e.in_file(y))?;
            assemble(xa, ya, None).map_err(|e| e.in_file(y))
        }
        DataSource::Csv(p) => read_csv(p).map_err(|e| e.in_file(p)),
        DataSource::Idx { images, labels } => {
            super::image_data::read_idx_dataset(images, labels.as_deref())
        }
        DataSource::Cifar(p) => super::image_data::read_cifar(p),
    }
}

/// Reads only the inputs of a data source (a query set): `.npz` archives need no `y`, IDX
/// images no labels. The targets of the result are one zero column.
pub fn read_inputs(source: &DataSource) -> Result<Dataset> {
    let ds = match source {
        DataSource::Npz(p) => read_npz_inputs(p).map_err(|e| e.in_file(p))?,
        other => read_data(other)?,
    };
    Dataset::from_row_major(
        &ds.x_row_major(),
        ds.input_dim(),
        &vec![0.0; ds.n_samples()],
        1,
    )
}

fn read_npz_inputs(path: &Path) -> Result<Dataset> {
    let mut zip = open_npz(path)?;
    let i = zip
        .index_for_name("x.npy")
        .or_else(|| zip.index_for_name("x"))
        .ok_or_else(|| Error::format("the archive has no array `x`"))?;
    let f = zip
        .by_index(i)
        .map_err(|e| Error::format(format!("cannot read `x.npy`: {e}")))?;
    let x = read_npy(f, "x")?;
    let y = Array {
        rows: x.rows,
        cols: 1,
        data: vec![0.0; x.rows],
    };
    assemble(x, y, None)
}

fn assemble(x: Array, y: Array, w: Option<Array>) -> Result<Dataset> {
    if x.rows == 0 {
        return Err(Error::EmptyData);
    }
    if y.rows != x.rows {
        return Err(Error::Shape {
            what: "y".into(),
            expected: format!("{} rows (as x)", x.rows),
            got: format!("{} rows", y.rows),
        });
    }
    let ds = Dataset::from_row_major(&x.data, x.cols, &y.data, y.cols)?;
    match w {
        Some(w) if w.cols != 1 || w.rows != x.rows => Err(Error::Shape {
            what: "w".into(),
            expected: format!("{} values (one per sample)", x.rows),
            got: format!("{} × {}", w.rows, w.cols),
        }),
        Some(w) => ds.with_weights(w.data),
        None => Ok(ds),
    }
}

fn read_npy_file(path: &Path) -> Result<Array> {
    let file = std::fs::File::open(path)?;
    read_npy(std::io::BufReader::new(file), "array")
}

fn read_npy(reader: impl Read, name: &str) -> Result<Array> {
    let npy = NpyFile::new(reader)
        .map_err(|e| Error::format(format!("`{name}` is not a valid .npy array: {e}")))?;
    let shape: Vec<usize> = npy.shape().iter().map(|&s| s as usize).collect();
    let (rows, cols) = match shape.as_slice() {
        [n] => (*n, 1),
        [n, d] => (*n, *d),
        other => {
            return Err(Error::format(format!(
                "`{name}` must be 1- or 2-dimensional, has shape {other:?}"
            )));
        }
    };
    let fortran = npy.order() == Order::Fortran;
    let dtype = npy.dtype();
    let descr = dtype.descr();
    let truncated =
        |e: std::io::Error| Error::format(format!("`{name}` is truncated or corrupt: {e}"));
    let data: Vec<f64> = match &dtype {
        npyz::DType::Plain(ts) => match (ts.type_char(), ts.size_field()) {
            (TypeChar::Float, 8) => npy.into_vec::<f64>().map_err(truncated)?,
            (TypeChar::Float, 4) => npy
                .into_vec::<f32>()
                .map_err(truncated)?
                .into_iter()
                .map(f64::from)
                .collect(),
            (TypeChar::Int, 8) => npy
                .into_vec::<i64>()
                .map_err(truncated)?
                .into_iter()
                .map(|v| v as f64)
                .collect(),
            (TypeChar::Int, 4) => npy
                .into_vec::<i32>()
                .map_err(truncated)?
                .into_iter()
                .map(f64::from)
                .collect(),
            _ => {
                return Err(Error::format(format!(
                    "`{name}` has dtype {descr}; use float64 (float32 and int32/int64 are converted)"
                )));
            }
        },
        _ => {
            return Err(Error::format(format!(
                "`{name}` has structured dtype {descr}; use a plain float64 array"
            )));
        }
    };
    if data.len() != rows * cols {
        return Err(Error::format(format!(
            "`{name}` is truncated: header says {rows} × {cols}, found {} values",
            data.len()
        )));
    }
    let data = if fortran && cols > 1 {
        let mut t = vec![0.0; data.len()];
        for i in 0..rows {
            for j in 0..cols {
                t[i * cols + j] = data[j * rows + i];
            }
        }
        t
    } else {
        data
    };
    Ok(Array { rows, cols, data })
}

/// Opens a `.npz` (zip) archive.
fn open_npz(path: &Path) -> Result<zip::ZipArchive<std::io::BufReader<std::fs::File>>> {
    let file = std::fs::File::open(path)?;
    zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| Error::format(format!("not a valid .npz (zip) archive: {e}")))
}

fn read_npz(path: &Path) -> Result<Dataset> {
    let mut zip = open_npz(path)?;
    let mut get = |name: &str| -> Result<Option<Array>> {
        let entry = format!("{name}.npy");
        let found = zip
            .index_for_name(&entry)
            .or_else(|| zip.index_for_name(name));
        match found {
            None => Ok(None),
            Some(i) => {
                let f = zip
                    .by_index(i)
                    .map_err(|e| Error::format(format!("cannot read `{entry}`: {e}")))?;
                read_npy(f, name).map(Some)
            }
        }
    };
    let x = get("x")?.ok_or_else(|| Error::format("the archive has no array `x`"))?;
    let y = get("y")?.ok_or_else(|| Error::format("the archive has no array `y`"))?;
    let w = get("w")?;
    assemble(x, y, w)
}

fn read_csv(path: &Path) -> Result<Dataset> {
    let text = std::fs::read_to_string(path)?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let (_, header) = lines.next().ok_or(Error::EmptyData)?;
    let names: Vec<String> = header
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_ascii_lowercase())
        .collect();
    let xi: Vec<usize> = (0..names.len())
        .filter(|&i| names[i].starts_with('x'))
        .collect();
    let yi: Vec<usize> = (0..names.len())
        .filter(|&i| names[i].starts_with('y'))
        .collect();
    let wi = names.iter().position(|n| n == "w");
    if xi.is_empty() || yi.is_empty() {
        return Err(Error::format(
            "the first line must name the columns: x… for inputs, y… for targets, optional w (e.g. `x1,x2,y`)",
        ));
    }
    if let Some(bad) = names
        .iter()
        .enumerate()
        .find(|(i, n)| !xi.contains(i) && !yi.contains(i) && Some(*i) != wi && !n.is_empty())
    {
        return Err(Error::format(format!(
            "column `{}` is neither an input (x…), a target (y…) nor the weight (w)",
            bad.1
        )));
    }
    let (mut x, mut y, mut w) = (Vec::new(), Vec::new(), Vec::new());
    let mut rows = 0;
    for (lineno, line) in lines {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != names.len() {
            return Err(Error::format(format!(
                "line {}: {} fields, the header has {}",
                lineno + 1,
                fields.len(),
                names.len()
            )));
        }
        let num = |i: usize| -> Result<f64> {
            fields[i].trim().parse::<f64>().map_err(|_| {
                Error::format(format!(
                    "line {}: `{}` in column `{}` is not a number",
                    lineno + 1,
                    fields[i].trim(),
                    names[i]
                ))
            })
        };
        for &i in &xi {
            x.push(num(i)?);
        }
        for &i in &yi {
            y.push(num(i)?);
        }
        if let Some(i) = wi {
            w.push(num(i)?);
        }
        rows += 1;
    }
    if rows == 0 {
        return Err(Error::EmptyData);
    }
    let ds = Dataset::from_row_major(&x, xi.len(), &y, yi.len())?;
    if wi.is_some() {
        ds.with_weights(w)
    } else {
        Ok(ds)
    }
}

fn write_npy(w: &mut impl Write, data: &[f64], shape: &[u64]) -> Result<()> {
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(shape)
        .writer(w)
        .begin_nd()?;
    writer.extend(data.iter().copied())?;
    writer.finish()?;
    Ok(())
}

fn npy_bytes(data: &[f64], shape: &[u64]) -> Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(data.len() * 8 + 128);
    write_npy(&mut buf, data, shape)?;
    Ok(buf)
}

/// Writes a data set atomically in the format of `dest`.
pub fn write_data(dest: &DataSource, data: &Dataset) -> Result<()> {
    let (n, d, k) = (
        data.n_samples() as u64,
        data.input_dim() as u64,
        data.output_dim() as u64,
    );
    match dest {
        DataSource::Npz(p) => write_atomic_with(p, |w| {
            write_npz(w, data, n, d, k).map_err(|e| Error::format(format!("writing npz: {e}")))
        }),
        DataSource::NpyPair { x, y } => {
            let xb = npy_bytes(&data.x_row_major(), &[n, d])?;
            let yb = npy_bytes(&data.y_row_major(), &[n, k])?;
            super::atomic::write_atomic(x, &xb)?;
            super::atomic::write_atomic(y, &yb)
        }
        DataSource::Csv(p) => write_atomic_with(p, |w| {
            let names: Vec<String> = (1..=d)
                .map(|j| format!("x{j}"))
                .chain((1..=k).map(|o| if k == 1 { "y".into() } else { format!("y{o}") }))
                .chain(data.weights().map(|_| "w".to_string()))
                .collect();
            writeln!(w, "{}", names.join(","))?;
            let (x, y) = (data.x_row_major(), data.y_row_major());
            for i in 0..n as usize {
                let row: Vec<String> = x[i * d as usize..(i + 1) * d as usize]
                    .iter()
                    .chain(&y[i * k as usize..(i + 1) * k as usize])
                    .chain(data.weights().map(|w| &w[i]))
                    .map(|v| format!("{v:e}"))
                    .collect();
                writeln!(w, "{}", row.join(","))?;
            }
            Ok(())
        }),
        DataSource::Idx { .. } | DataSource::Cifar(_) => Err(Error::invalid(
            "output",
            format!(
                "`{dest}`: gradflow reads IDX and CIFAR-10 files but writes .npz, X.npy,Y.npy or .csv"
            ),
        )),
    }
}

fn write_npz<W: Write + Seek>(w: W, data: &Dataset, n: u64, d: u64, k: u64) -> Result<()> {
    let mut zip = zip::ZipWriter::new(w);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    let mut put = |name: &str, bytes: Vec<u8>| -> Result<()> {
        zip.start_file(name, opts)
            .map_err(|e| Error::format(e.to_string()))?;
        zip.write_all(&bytes)?;
        Ok(())
    };
    put("x.npy", npy_bytes(&data.x_row_major(), &[n, d])?)?;
    put("y.npy", npy_bytes(&data.y_row_major(), &[n, k])?)?;
    if let Some(wts) = data.weights() {
        put("w.npy", npy_bytes(wts, &[n])?)?;
    }
    zip.finish().map_err(|e| Error::format(e.to_string()))?;
    Ok(())
}
