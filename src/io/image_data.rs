//! Image data sets in their distribution formats: IDX (MNIST, FashionMNIST; LeCun et al.'s
//! format, gzipped or not) and CIFAR-10's binary batches (Krizhevsky 2009).
//!
//! - **IDX**: a big-endian header `0x00 0x00 type ndim`, then `ndim` 32-bit sizes, then the
//!   values. Images are `N × rows × cols` (flattened row by row into `d = rows·cols` inputs),
//!   labels are `N` integers. Unsigned bytes (MNIST's type) are scaled to `[0, 1]` (value/255,
//!   as torchvision's `ToTensor`); the other IDX types (i8, i16, i32, f32, f64) are read as
//!   they are.
//! - **CIFAR-10 binary batches** (`data_batch_1.bin` … `test_batch.bin`): records of one label
//!   byte and 3 072 pixel bytes (the red, green and blue 32 × 32 planes), scaled to `[0, 1]`;
//!   `d = 3072` inputs in that order, 10 classes.
//!
//! Labels become one-hot targets ([`Dataset::from_labels`]). Every problem — a wrong magic
//! number, a truncated file, images and labels of different counts — is a one-line
//! [`Error::Format`].

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};
use crate::net::Dataset;

/// The values and shape of one IDX array.
#[derive(Clone, Debug, PartialEq)]
pub struct IdxArray {
    /// Sizes of the dimensions (`[N, rows, cols]` for images, `[N]` for labels).
    pub shape: Vec<usize>,
    /// The values in file order; unsigned bytes scaled to `[0, 1]` unless read as labels.
    pub values: Vec<f64>,
}

/// Reads a whole file, inflating it when it is gzipped (by its magic bytes, not its name).
fn read_maybe_gzipped(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path)?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| Error::format(format!("corrupt gzip stream: {e}")))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Parses IDX bytes. `scale_bytes`: unsigned bytes become value/255 (images) instead of the
/// integer (labels).
pub fn parse_idx(bytes: &[u8], scale_bytes: bool) -> Result<IdxArray> {
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        let magic: Vec<String> = bytes.iter().take(4).map(|b| format!("{b:02x}")).collect();
        return Err(Error::format(format!(
            "not an IDX file: magic number {} (expected 00 00 <type> <ndim>)",
            magic.join(" ")
        )));
    }
    let (kind, ndim) = (bytes[2], bytes[3] as usize);
    let width = match kind {
        0x08 | 0x09 => 1,
        0x0b => 2,
        0x0c | 0x0d => 4,
        0x0e => 8,
        other => {
            return Err(Error::format(format!(
                "not an IDX file: unknown value type 0x{other:02x} (expected 08, 09, 0b, 0c, 0d or 0e)"
            )));
        }
    };
    if ndim == 0 {
        return Err(Error::format("IDX file with zero dimensions"));
    }
    let header = 4 + 4 * ndim;
    if bytes.len() < header {
        return Err(Error::format(format!(
            "truncated IDX header: {} bytes, the header of {ndim} dimensions needs {header}",
            bytes.len()
        )));
    }
    let shape: Vec<usize> = (0..ndim)
        .map(|i| {
            let b = &bytes[4 + 4 * i..8 + 4 * i];
            u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
        })
        .collect();
    let count = shape
        .iter()
        .try_fold(1usize, |a, &s| a.checked_mul(s))
        .ok_or_else(|| Error::format("IDX sizes overflow"))?;
    let need = count
        .checked_mul(width)
        .and_then(|n| n.checked_add(header))
        .ok_or_else(|| Error::format("IDX sizes overflow"))?;
    if bytes.len() != need {
        let dims: Vec<String> = shape.iter().map(ToString::to_string).collect();
        return Err(Error::format(format!(
            "{} IDX file: the header says {} values ({need} bytes), the file has {} bytes",
            if bytes.len() < need {
                "truncated"
            } else {
                "overlong"
            },
            dims.join(" × "),
            bytes.len()
        )));
    }
    let body = &bytes[header..];
    let values: Vec<f64> = match kind {
        0x08 if scale_bytes => body.iter().map(|&b| f64::from(b) / 255.0).collect(),
        0x08 => body.iter().map(|&b| f64::from(b)).collect(),
        0x09 => body.iter().map(|&b| f64::from(b as i8)).collect(),
        0x0b => body
            .chunks_exact(2)
            .map(|c| f64::from(i16::from_be_bytes([c[0], c[1]])))
            .collect(),
        0x0c => body
            .chunks_exact(4)
            .map(|c| f64::from(i32::from_be_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        0x0d => body
            .chunks_exact(4)
            .map(|c| f64::from(f32::from_be_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        _ => body
            .chunks_exact(8)
            .map(|c| f64::from_be_bytes(c.try_into().expect("8 bytes")))
            .collect(),
    };
    if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::format(format!("IDX value {i} is {v}")));
    }
    Ok(IdxArray { shape, values })
}

/// Reads an IDX file (gzipped or not).
pub fn read_idx(path: &Path, scale_bytes: bool) -> Result<IdxArray> {
    read_maybe_gzipped(path)
        .and_then(|b| parse_idx(&b, scale_bytes))
        .map_err(|e| e.in_file(path))
}

/// Integer class labels from an IDX label array (one dimension, non-negative integers).
fn labels_of(a: &IdxArray) -> Result<Vec<usize>> {
    if a.shape.len() != 1 {
        return Err(Error::format(format!(
            "a label file has one dimension, this one has {}",
            a.shape.len()
        )));
    }
    a.values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if v >= 0.0 && v.fract() == 0.0 && v < 1e6 {
                Ok(v as usize)
            } else {
                Err(Error::format(format!(
                    "label {i} is {v}, not a class index"
                )))
            }
        })
        .collect()
}

/// Reads IDX images (`N × …`, flattened per sample) and optionally their labels: with labels,
/// one-hot targets over `max label + 1` classes; without, a single zero target column (for
/// query sets, whose targets the teacher provides).
pub fn read_idx_dataset(images: &Path, labels: Option<&Path>) -> Result<Dataset> {
    let img = read_idx(images, true)?;
    let n = img.shape[0];
    if n == 0 {
        return Err(Error::EmptyData.in_file(images));
    }
    let d = img.values.len() / n;
    if d == 0 {
        return Err(Error::format("images of zero size").in_file(images));
    }
    match labels {
        Some(lp) => {
            let lab = read_idx(lp, false)?;
            let labels = labels_of(&lab).map_err(|e| e.in_file(lp))?;
            if labels.len() != n {
                return Err(Error::format(format!(
                    "{} labels for {n} images in {}",
                    labels.len(),
                    images.display()
                ))
                .in_file(lp));
            }
            let classes = labels.iter().max().map_or(1, |m| m + 1);
            Dataset::from_labels(&img.values, d, &labels, classes)
        }
        None => Dataset::from_row_major(&img.values, d, &vec![0.0; n], 1),
    }
}

/// Bytes per CIFAR-10 record: one label byte and 3 × 32 × 32 pixel bytes.
pub const CIFAR_RECORD: usize = 1 + 3 * 32 * 32;

/// Reads CIFAR-10 binary batches (concatenated in the order given): 3 072 inputs scaled to
/// `[0, 1]`, one-hot targets over the 10 classes.
pub fn read_cifar(paths: &[impl AsRef<Path>]) -> Result<Dataset> {
    let mut x = Vec::new();
    let mut labels = Vec::new();
    for p in paths {
        let p = p.as_ref();
        read_maybe_gzipped(p)
            .and_then(|b| parse_cifar(&b, &mut x, &mut labels))
            .map_err(|e| e.in_file(p))?;
    }
    if labels.is_empty() {
        return Err(Error::EmptyData);
    }
    Dataset::from_labels(&x, CIFAR_RECORD - 1, &labels, 10)
}

fn parse_cifar(bytes: &[u8], x: &mut Vec<f64>, labels: &mut Vec<usize>) -> Result<()> {
    if bytes.is_empty() || bytes.len() % CIFAR_RECORD != 0 {
        return Err(Error::format(format!(
            "not a CIFAR-10 binary batch: {} bytes is not a positive multiple of the record size {CIFAR_RECORD}{}",
            bytes.len(),
            if bytes.len() > CIFAR_RECORD {
                " (truncated?)"
            } else {
                ""
            }
        )));
    }
    for (i, rec) in bytes.chunks_exact(CIFAR_RECORD).enumerate() {
        if rec[0] > 9 {
            return Err(Error::format(format!(
                "not a CIFAR-10 binary batch: record {i} has label {} (expected 0–9)",
                rec[0]
            )));
        }
        labels.push(usize::from(rec[0]));
        x.extend(rec[1..].iter().map(|&b| f64::from(b) / 255.0));
    }
    Ok(())
}

/// IDX bytes of unsigned-byte values with the given shape (for tests and synthetic data sets).
pub fn idx_bytes(shape: &[usize], values: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, shape.len() as u8];
    for &s in shape {
        out.extend_from_slice(&(s as u32).to_be_bytes());
    }
    out.extend_from_slice(values);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idx_round_trip_of_every_value_type() {
        let b = idx_bytes(&[2, 1, 2], &[0, 255, 51, 102]);
        let a = parse_idx(&b, true).unwrap();
        assert_eq!(a.shape, vec![2, 1, 2]);
        assert_eq!(a.values, vec![0.0, 1.0, 0.2, 0.4]);
        let mut f = vec![0, 0, 0x0e, 1, 0, 0, 0, 2];
        f.extend_from_slice(&1.5f64.to_be_bytes());
        f.extend_from_slice(&(-2.0f64).to_be_bytes());
        assert_eq!(parse_idx(&f, true).unwrap().values, vec![1.5, -2.0]);
        let mut s = vec![0, 0, 0x0b, 1, 0, 0, 0, 1];
        s.extend_from_slice(&(-300i16).to_be_bytes());
        assert_eq!(parse_idx(&s, true).unwrap().values, vec![-300.0]);
    }

    #[test]
    fn bad_idx_files_explain_themselves() {
        let e = parse_idx(b"PK\x03\x04rest", true).unwrap_err().to_string();
        assert!(e.contains("magic number 50 4b 03 04"), "{e}");
        let mut b = idx_bytes(&[3, 2, 2], &[1; 12]);
        b.truncate(20);
        let e = parse_idx(&b, true).unwrap_err().to_string();
        assert!(e.contains("truncated") && e.contains("3 × 2 × 2"), "{e}");
        let e = parse_idx(&[0, 0, 0x08, 3, 0, 0], true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("truncated IDX header"), "{e}");
        let e = parse_idx(&[0, 0, 0x07, 1, 0, 0, 0, 0], true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown value type 0x07"), "{e}");
    }

    #[test]
    fn cifar_records_and_bad_sizes() {
        let mut rec = vec![3u8];
        rec.extend((0..3072).map(|i| (i % 256) as u8));
        let (mut x, mut l) = (Vec::new(), Vec::new());
        parse_cifar(&rec, &mut x, &mut l).unwrap();
        assert_eq!((l, x.len(), x[255], x[256]), (vec![3], 3072, 1.0, 0.0));
        let e = parse_cifar(&rec[..3000], &mut x, &mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a positive multiple"), "{e}");
        rec[0] = 12;
        let e = parse_cifar(&rec, &mut x, &mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("label 12"), "{e}");
    }
}
