//! The network JSON file (SPEC §9).
//!
//! ```json
//! {"input_dim": 2,
//!  "layers": [{"width": 3, "activation": "g", "bias": true},
//!             {"width": 1, "activation": "identity", "bias": true}],
//!  "params": [{"weight": [[1, 0], [0, 1], [1, 1]], "bias": [0, 0, 0]},
//!             {"weight": [[1, -1, 0.5]], "bias": [0.1]}]}
//! ```
//!
//! `weight` is `k_l` rows of `k_{l−1}` numbers; `bias` is present exactly when the layer has a
//! bias. `leaky_relu` takes an optional `"alpha"` (default 0.01), `polynomial` requires
//! `"coefficients"`. `params` may be omitted for an architecture-only file.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::net::{LayerSpec, NetSpec, Network};

pub use crate::net::LayerRecord;

/// One layer's parameters as written in files.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamRecord {
    /// `k_l` rows of `k_{l−1}` weights.
    pub weight: Vec<Vec<f64>>,
    /// `k_l` biases (absent for layers without bias).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias: Option<Vec<f64>>,
}

/// The whole file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkRecord {
    /// Input dimension.
    pub input_dim: usize,
    /// Layers.
    pub layers: Vec<LayerSpec>,
    /// Parameters per layer (may be absent in architecture-only files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Vec<ParamRecord>>,
    /// Free-form provenance (e.g. the teacher construction and seed). The network is built
    /// without it; only its `"seed"` is read, by [`NetworkRecord::data_seed`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<serde_json::Value>,
}

impl NetworkRecord {
    /// The record of a network.
    pub fn from_network(net: &Network) -> Self {
        let params = net
            .spec
            .layouts()
            .iter()
            .map(|lay| ParamRecord {
                weight: (0..lay.rows)
                    .map(|u| net.params[lay.w(u, 0)..lay.w(u, 0) + lay.cols].to_vec())
                    .collect(),
                bias: lay.bias.clone().map(|b| net.params[b].to_vec()),
            })
            .collect();
        NetworkRecord {
            input_dim: net.spec.input_dim,
            layers: net.spec.layers.clone(),
            params: Some(params),
            meta: None,
        }
    }

    /// The seed of the network's data stream recorded in `"meta"` (`gradflow teacher` writes
    /// it), or 0 when the file has none: the data a teacher file is sampled with by default.
    pub fn data_seed(&self) -> u64 {
        self.meta
            .as_ref()
            .and_then(|m| m.get("seed"))
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0)
    }

    /// The architecture, validated.
    pub fn spec(&self) -> Result<NetSpec> {
        NetSpec::new(self.input_dim, self.layers.clone())
    }

    /// The network, validated: shapes of every weight and bias, finite values.
    pub fn to_network(&self) -> Result<Network> {
        let spec = self.spec()?;
        let params = self
            .params
            .as_ref()
            .ok_or_else(|| Error::format("the file has no \"params\""))?;
        if params.len() != spec.depth() {
            return Err(Error::format(format!(
                "\"params\" has {} entries but there are {} layers",
                params.len(),
                spec.depth()
            )));
        }
        let mut flat = vec![0.0; spec.n_params()];
        for (l, (lay, rec)) in spec.layouts().iter().zip(params).enumerate() {
            let layer_no = l + 1;
            if rec.weight.len() != lay.rows {
                return Err(Error::format(format!(
                    "layer {layer_no}: weight has {} rows, expected {} (the layer width)",
                    rec.weight.len(),
                    lay.rows
                )));
            }
            for (u, row) in rec.weight.iter().enumerate() {
                if row.len() != lay.cols {
                    return Err(Error::format(format!(
                        "layer {layer_no}: weight row {u} has {} entries, expected {}",
                        row.len(),
                        lay.cols
                    )));
                }
                for (v, &w) in row.iter().enumerate() {
                    if !w.is_finite() {
                        return Err(Error::format(format!(
                            "layer {layer_no}: weight [{u}][{v}] is not finite"
                        )));
                    }
                    flat[lay.w(u, v)] = w;
                }
            }
            match (&lay.bias, &rec.bias) {
                (Some(range), Some(b)) => {
                    if b.len() != lay.rows {
                        return Err(Error::format(format!(
                            "layer {layer_no}: bias has {} entries, expected {}",
                            b.len(),
                            lay.rows
                        )));
                    }
                    if b.iter().any(|v| !v.is_finite()) {
                        return Err(Error::format(format!(
                            "layer {layer_no}: bias is not finite"
                        )));
                    }
                    flat[range.clone()].copy_from_slice(b);
                }
                (None, None) => {}
                (Some(_), None) => {
                    return Err(Error::format(format!(
                        "layer {layer_no} has \"bias\": true but its params give no bias"
                    )));
                }
                (None, Some(_)) => {
                    return Err(Error::format(format!(
                        "layer {layer_no} has \"bias\": false but its params give a bias"
                    )));
                }
            }
        }
        Network::new(spec, flat)
    }
}

/// Parses a network from JSON text: a network file, or a run record of `solve`/`train`
/// (its `"network"` architecture with its end point `"x"`).
pub fn network_from_json(text: &str) -> Result<Network> {
    let invalid = |e: serde_json::Error| Error::format(format!("invalid network JSON: {e}"));
    let value: serde_json::Value = serde_json::from_str(text).map_err(invalid)?;
    if let (Some(arch), Some(x)) = (value.get("network"), value.get("x")) {
        let rec: NetworkRecord = serde_json::from_value(arch.clone())
            .map_err(|e| Error::format(format!("run record: invalid \"network\": {e}")))?;
        let params: Vec<f64> = serde_json::from_value(x.clone())
            .map_err(|e| Error::format(format!("run record: invalid \"x\": {e}")))?;
        if params.iter().any(|v| !v.is_finite()) {
            return Err(Error::format("run record: \"x\" is not finite"));
        }
        return Network::new(rec.spec()?, params);
    }
    let rec: NetworkRecord = serde_json::from_value(value).map_err(invalid)?;
    rec.to_network()
}

/// Serialises a network to pretty JSON.
pub fn network_to_json(net: &Network) -> String {
    serde_json::to_string_pretty(&NetworkRecord::from_network(net))
        .expect("network records always serialise")
}

/// Reads and validates a network file; errors name the file.
pub fn read_network(path: &Path) -> Result<Network> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::from(e).in_file(path))?;
    network_from_json(&text).map_err(|e| e.in_file(path))
}

/// Reads a network file's record (architecture, optional params and meta) without building
/// the network; errors name the file.
pub fn read_network_record(path: &Path) -> Result<NetworkRecord> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::from(e).in_file(path))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::format(format!("invalid network JSON: {e}")).in_file(path))
}

/// Reads an architecture (params optional); errors name the file.
pub fn read_spec(path: &Path) -> Result<NetSpec> {
    read_network_record(path)?
        .spec()
        .map_err(|e| e.in_file(path))
}

/// Writes a network file atomically.
pub fn write_network(path: &Path, net: &Network) -> Result<()> {
    write_network_with_meta(path, net, None)
}

/// Writes a network file with provenance in `"meta"`, atomically.
pub fn write_network_with_meta(
    path: &Path,
    net: &Network,
    meta: Option<serde_json::Value>,
) -> Result<()> {
    let mut rec = NetworkRecord::from_network(net);
    rec.meta = meta;
    let text = serde_json::to_string_pretty(&rec).expect("network records always serialise");
    super::atomic::write_atomic(path, text.as_bytes())
}
