//! Data set files (SPEC §9).
//!
//! - **`.npz`** (NumPy `savez`/`savez_compressed`): arrays `x` (`N × d`) and `y` (`N × k`, or
//!   `N` for one output or for class labels), optional `w` (`N`, per-sample weights).
//! - **`.npy` pairs**: `X.npy,Y.npy` (two paths joined by a comma).
//! - **CSV**: a header naming every column; columns whose names start with `x` are inputs,
//!   with `y` targets, a column named `w` holds per-sample weights (e.g. `x1,x2,y`).
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
}

impl DataSource {
    /// Recognises the format from the path(s): `*.npz`, `X.npy,Y.npy`, `*.csv`.
    pub fn parse(text: &str) -> Result<Self> {
        if let Some((x, y)) = text.split_once(',') {
            let (x, y) = (PathBuf::from(x.trim()), PathBuf::from(y.trim()));
            if has_ext(&x, "npy") && has_ext(&y, "npy") {
                return Ok(DataSource::NpyPair { x, y });
            }
            return Err(Error::invalid(
                "data",
                format!("`{text}`: two paths must both be .npy files (X.npy,Y.npy)"),
            ));
        }
        let p = PathBuf::from(text);
        if has_ext(&p, "npz") {
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
                format!("`{text}`: unknown data format (use .npz, X.npy,Y.npy or .csv)"),
            ))
        }
    }

    /// The main path (for messages).
    pub fn path(&self) -> &Path {
        match self {
            DataSource::Npz(p) | DataSource::Csv(p) => p,
            DataSource::NpyPair { x, .. } => x,
        }
    }
}

impl fmt::Display for DataSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataSource::Npz(p) | DataSource::Csv(p) => write!(f, "{}", p.display()),
            DataSource::NpyPair { x, y } => write!(f, "{},{}", x.display(), y.display()),
        }
    }
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
    }
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

fn read_npz(path: &Path) -> Result<Dataset> {
    let file = std::fs::File::open(path)?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| Error::format(format!("not a valid .npz (zip) archive: {e}")))?;
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
