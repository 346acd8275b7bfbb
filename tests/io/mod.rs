//! File round trips (network JSON, `.npz`, `.npy` pairs, CSV).

use gradflow::io::{DataSource, network_from_json, network_to_json, read_data, write_data};
use gradflow::net::{Activation, Dataset, Init, LayerSpec, NetSpec, Network};

fn sample_network() -> Network {
    let spec = NetSpec::new(
        3,
        vec![
            LayerSpec::new(4, Activation::LeakyRelu { alpha: 0.2 }),
            LayerSpec::new(
                2,
                Activation::Polynomial {
                    coefficients: vec![0.0, 1.0, 0.25],
                },
            )
            .with_bias(false),
            LayerSpec::new(2, Activation::Identity),
        ],
    )
    .unwrap();
    let params = Init::GlorotNormal.draw_seeded(&spec, 4);
    Network::new(spec, params).unwrap()
}

#[test]
fn network_json_round_trips_exactly() {
    let net = sample_network();
    let text = network_to_json(&net);
    let back = network_from_json(&text).unwrap();
    assert_eq!(back, net);
    assert!(text.contains("\"alpha\": 0.2"));
    assert!(text.contains("\"coefficients\""));
}

#[test]
fn data_round_trips_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let n = 17;
    let x: Vec<f64> = (0..n * 3)
        .map(|i| (i as f64 * 0.731).sin() * 1e3_f64.powi(i % 3 - 1))
        .collect();
    let y: Vec<f64> = (0..n * 2).map(|i| 1.0 / (i as f64 + 0.3)).collect();
    let w: Vec<f64> = (0..n).map(|i| (i % 4) as f64).collect();
    let data = Dataset::from_row_major(&x, 3, &y, 2)
        .unwrap()
        .with_weights(w.clone())
        .unwrap();
    let plain = Dataset::from_row_major(&x, 3, &y, 2).unwrap();
    let npz = DataSource::Npz(dir.path().join("d.npz"));
    let csv = DataSource::Csv(dir.path().join("d.csv"));
    let pair = DataSource::NpyPair {
        x: dir.path().join("x.npy"),
        y: dir.path().join("y.npy"),
    };
    for (dest, with_weights) in [(&npz, true), (&csv, true), (&pair, false)] {
        let src = if with_weights { &data } else { &plain };
        write_data(dest, src).unwrap();
        let back = read_data(dest).unwrap();
        assert_eq!(back.x_row_major(), x, "{dest}");
        assert_eq!(back.y_row_major(), y, "{dest}");
        assert_eq!(
            back.weights().map(<[f64]>::to_vec),
            with_weights.then(|| w.clone()),
            "{dest}"
        );
    }
    assert_eq!(
        DataSource::parse(&format!(
            "{},{}",
            dir.path().join("x.npy").display(),
            dir.path().join("y.npy").display()
        ))
        .unwrap(),
        pair
    );
}
