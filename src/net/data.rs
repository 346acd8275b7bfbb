//! Data sets: inputs, targets and optional per-sample weights.
//!
//! Inputs and targets are stored sample-major in memory columns (`N × d` and `N × k`
//! column-major), so that a chunk of consecutive samples is a strided matrix view and every
//! per-feature column is contiguous, which is what the chunked kernels multiply.

use faer::{Mat, MatRef};

use crate::error::{Error, Result};

/// Inputs `x` (`N × d`), targets `y` (`N × k`) and optional per-sample weights.
#[derive(Clone, Debug)]
pub struct Dataset {
    x: Mat<f64>,
    y: Mat<f64>,
    weights: Option<Vec<f64>>,
}

impl Dataset {
    /// Builds a data set from row-major arrays (`x[i*d + j]`, `y[i*k + o]`), as in NumPy's C
    /// order. Rejects empty data, length mismatches and non-finite values.
    pub fn from_row_major(x: &[f64], d: usize, y: &[f64], k: usize) -> Result<Self> {
        if d == 0 || k == 0 {
            return Err(Error::Shape {
                what: "data".into(),
                expected: "at least one input and one output column".into(),
                got: format!("{d} input and {k} output columns"),
            });
        }
        if x.len() % d != 0 {
            return Err(Error::Shape {
                what: "x".into(),
                expected: format!("N × {d}"),
                got: format!("{} values", x.len()),
            });
        }
        let n = x.len() / d;
        if n == 0 {
            return Err(Error::EmptyData);
        }
        if y.len() != n * k {
            return Err(Error::Shape {
                what: "y".into(),
                expected: format!("{n} × {k} (x has {n} rows)"),
                got: format!("{} values ({} rows)", y.len(), y.len() / k),
            });
        }
        check_finite("x", x, d)?;
        check_finite("y", y, k)?;
        Ok(Dataset {
            x: Mat::from_fn(n, d, |i, j| x[i * d + j]),
            y: Mat::from_fn(n, k, |i, o| y[i * k + o]),
            weights: None,
        })
    }

    /// Builds a classification data set from integer labels `0..n_classes`; the targets are the
    /// one-hot vectors (the NLL loss treats labels and one-hot targets identically).
    pub fn from_labels(x: &[f64], d: usize, labels: &[usize], n_classes: usize) -> Result<Self> {
        if let Some((i, &l)) = labels.iter().enumerate().find(|&(_, &l)| l >= n_classes) {
            return Err(Error::invalid(
                "labels",
                format!("label {l} at row {i} is not below the number of classes {n_classes}"),
            ));
        }
        let mut y = vec![0.0; labels.len() * n_classes];
        for (i, &l) in labels.iter().enumerate() {
            y[i * n_classes + l] = 1.0;
        }
        Self::from_row_major(x, d, &y, n_classes)
    }

    /// Attaches per-sample weights (finite, non-negative, not all zero). The reported mean loss
    /// divides by their sum, so 0/1 weights give exactly the subset's mean loss.
    pub fn with_weights(mut self, weights: Vec<f64>) -> Result<Self> {
        if weights.len() != self.n_samples() {
            return Err(Error::Length {
                what: "sample weights".into(),
                expected: self.n_samples(),
                got: weights.len(),
            });
        }
        if let Some((i, w)) = weights
            .iter()
            .enumerate()
            .find(|(_, w)| !w.is_finite() || **w < 0.0)
        {
            return Err(Error::invalid(
                "sample weights",
                format!("weight {w} at row {i} is not a finite non-negative number"),
            ));
        }
        if weights.iter().sum::<f64>() <= 0.0 {
            return Err(Error::invalid("sample weights", "all weights are zero"));
        }
        self.weights = Some(weights);
        Ok(self)
    }

    /// Number of samples `N`.
    pub fn n_samples(&self) -> usize {
        self.x.nrows()
    }

    /// Input dimension `d`.
    pub fn input_dim(&self) -> usize {
        self.x.ncols()
    }

    /// Target dimension `k`.
    pub fn output_dim(&self) -> usize {
        self.y.ncols()
    }

    /// Inputs, `N × d`.
    pub fn x(&self) -> MatRef<'_, f64> {
        self.x.as_ref()
    }

    /// Targets, `N × k`.
    pub fn y(&self) -> MatRef<'_, f64> {
        self.y.as_ref()
    }

    /// Per-sample weights, if any.
    pub fn weights(&self) -> Option<&[f64]> {
        self.weights.as_deref()
    }

    /// The normaliser of the reported loss: `N`, or the sum of the weights.
    pub fn effective_size(&self) -> f64 {
        self.weights
            .as_ref()
            .map_or(self.n_samples() as f64, |w| w.iter().sum())
    }

    /// Inputs as a row-major vector (for files).
    pub fn x_row_major(&self) -> Vec<f64> {
        row_major(self.x.as_ref())
    }

    /// Targets as a row-major vector (for files).
    pub fn y_row_major(&self) -> Vec<f64> {
        row_major(self.y.as_ref())
    }

    /// The data set restricted to the given rows (in order).
    pub fn select(&self, rows: &[usize]) -> Result<Self> {
        let (d, k) = (self.input_dim(), self.output_dim());
        let x: Vec<f64> = rows
            .iter()
            .flat_map(|&i| (0..d).map(move |j| (i, j)))
            .map(|(i, j)| self.x[(i, j)])
            .collect();
        let y: Vec<f64> = rows
            .iter()
            .flat_map(|&i| (0..k).map(move |o| (i, o)))
            .map(|(i, o)| self.y[(i, o)])
            .collect();
        let out = Self::from_row_major(&x, d, &y, k)?;
        match &self.weights {
            Some(w) => out.with_weights(rows.iter().map(|&i| w[i]).collect()),
            None => Ok(out),
        }
    }
}

fn row_major(m: MatRef<'_, f64>) -> Vec<f64> {
    let mut out = Vec::with_capacity(m.nrows() * m.ncols());
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            out.push(m[(i, j)]);
        }
    }
    out
}

fn check_finite(what: &str, v: &[f64], cols: usize) -> Result<()> {
    match v.iter().position(|x| !x.is_finite()) {
        None => Ok(()),
        Some(p) => Err(Error::NonFinite {
            what: what.into(),
            row: p / cols,
            col: p % cols,
            value: v[p],
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_input() {
        assert!(matches!(
            Dataset::from_row_major(&[], 2, &[], 1),
            Err(Error::EmptyData)
        ));
        assert!(matches!(
            Dataset::from_row_major(&[1.0, 2.0, 3.0], 2, &[1.0], 1),
            Err(Error::Shape { .. })
        ));
        assert!(matches!(
            Dataset::from_row_major(&[1.0, f64::NAN], 2, &[1.0], 1),
            Err(Error::NonFinite { row: 0, col: 1, .. })
        ));
        let ok = Dataset::from_row_major(&[1.0, 2.0], 2, &[1.0], 1).unwrap();
        assert!(ok.clone().with_weights(vec![0.0]).is_err());
        assert!(ok.clone().with_weights(vec![-1.0]).is_err());
        assert!(ok.with_weights(vec![1.0, 2.0]).is_err());
    }

    #[test]
    fn layout_round_trips() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let y = [7.0, 8.0, 9.0];
        let ds = Dataset::from_row_major(&x, 2, &y, 1).unwrap();
        assert_eq!(ds.n_samples(), 3);
        assert_eq!(ds.x_row_major(), x.to_vec());
        assert_eq!(ds.y_row_major(), y.to_vec());
        assert_eq!(
            ds.select(&[2, 0]).unwrap().x_row_major(),
            vec![5.0, 6.0, 1.0, 2.0]
        );
    }
}
