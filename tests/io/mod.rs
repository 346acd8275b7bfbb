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

mod images {
    use std::io::Write;

    use gradflow::io::image_data::{CIFAR_RECORD, idx_bytes};
    use gradflow::io::{DataSource, read_data, read_inputs};

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn idx_images_and_labels_round_trip_gzipped_or_not() {
        let dir = tempfile::tempdir().unwrap();
        // 3 images of 2×2 pixels, labels 2, 0, 1.
        let pixels = [0u8, 255, 51, 102, 1, 2, 3, 4, 255, 255, 0, 0];
        let img = idx_bytes(&[3, 2, 2], &pixels);
        let lab = idx_bytes(&[3], &[2, 0, 1]);
        for (name, zip) in [("plain", false), ("zipped", true)] {
            let ext = if zip { ".gz" } else { "" };
            let ip = dir.path().join(format!("{name}-images-idx3-ubyte{ext}"));
            let lp = dir.path().join(format!("{name}-labels-idx1-ubyte{ext}"));
            std::fs::write(&ip, if zip { gz(&img) } else { img.clone() }).unwrap();
            std::fs::write(&lp, if zip { gz(&lab) } else { lab.clone() }).unwrap();
            let src = DataSource::parse(&format!("{},{}", ip.display(), lp.display())).unwrap();
            assert!(matches!(
                src,
                DataSource::Idx {
                    labels: Some(_),
                    ..
                }
            ));
            let ds = read_data(&src).unwrap();
            assert_eq!((ds.n_samples(), ds.input_dim(), ds.output_dim()), (3, 4, 3));
            let x = ds.x_row_major();
            assert_eq!(&x[..4], &[0.0, 1.0, 0.2, 0.4]);
            assert!((x[4] - 1.0 / 255.0).abs() < 1e-17);
            assert_eq!(ds.y_row_major(), vec![0., 0., 1., 1., 0., 0., 0., 1., 0.]);
            // The images alone are a query set.
            let q = read_inputs(&DataSource::parse(&ip.display().to_string()).unwrap()).unwrap();
            assert_eq!((q.n_samples(), q.input_dim(), q.output_dim()), (3, 4, 1));
        }
    }

    #[test]
    fn bad_idx_files_give_one_line_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let img = idx_bytes(&[3, 2, 2], &[7; 12]);
        let lab = idx_bytes(&[2], &[0, 1]);
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            (
                "trunc-images-idx3-ubyte",
                img[..img.len() - 3].to_vec(),
                "truncated IDX file",
            ),
            (
                "magic-images-idx3-ubyte",
                b"\x1f\x00\x08\x03rest".to_vec(),
                "magic number",
            ),
            (
                "badgz-images-idx3-ubyte.gz",
                vec![0x1f, 0x8b, 8, 0, 1, 2],
                "corrupt gzip",
            ),
        ];
        for (name, bytes, expect) in cases {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            let e = read_data(&DataSource::parse(&p.display().to_string()).unwrap())
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(expect) && e.contains(name) && !e.contains('\n'),
                "{e}"
            );
        }
        let ip = dir.path().join("ok-images-idx3-ubyte");
        let lp = dir.path().join("ok-labels-idx1-ubyte");
        std::fs::write(&ip, &img).unwrap();
        std::fs::write(&lp, &lab).unwrap();
        let e =
            read_data(&DataSource::parse(&format!("{},{}", ip.display(), lp.display())).unwrap())
                .unwrap_err()
                .to_string();
        assert!(e.contains("2 labels for 3 images"), "{e}");
        let e = read_data(&DataSource::Idx {
            images: dir.path().join("missing-idx3-ubyte"),
            labels: None,
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("missing-idx3-ubyte"), "{e}");
    }

    #[test]
    fn cifar_batches_concatenate_and_bad_ones_explain_themselves() {
        let dir = tempfile::tempdir().unwrap();
        let record = |label: u8, v: u8| {
            let mut r = vec![label];
            r.extend(std::iter::repeat_n(v, CIFAR_RECORD - 1));
            r
        };
        let a = dir.path().join("data_batch_1.bin");
        let b = dir.path().join("test_batch.bin");
        std::fs::write(&a, [record(3, 255), record(9, 0)].concat()).unwrap();
        std::fs::write(&b, record(0, 51)).unwrap();
        let src = DataSource::parse(&format!("{},{}", a.display(), b.display())).unwrap();
        let ds = read_data(&src).unwrap();
        assert_eq!(
            (ds.n_samples(), ds.input_dim(), ds.output_dim()),
            (3, 3072, 10)
        );
        let x = ds.x_row_major();
        assert_eq!((x[0], x[3072], x[2 * 3072]), (1.0, 0.0, 0.2));
        let y = ds.y_row_major();
        assert_eq!((y[3], y[10 + 9], y[20]), (1.0, 1.0, 1.0));
        std::fs::write(&b, &record(0, 1)[..100]).unwrap();
        let e = read_data(&src).unwrap_err().to_string();
        assert!(
            e.contains("test_batch.bin") && e.contains("not a positive multiple"),
            "{e}"
        );
        let mut bad = record(0, 1);
        bad[0] = 10;
        std::fs::write(&b, bad).unwrap();
        let e = read_data(&src).unwrap_err().to_string();
        assert!(e.contains("label 10"), "{e}");
    }

    #[test]
    fn image_formats_are_read_not_written() {
        let ds = gradflow::net::Dataset::from_row_major(&[1.0], 1, &[1.0], 1).unwrap();
        let e = gradflow::io::write_data(&DataSource::parse("t-images-idx3-ubyte").unwrap(), &ds)
            .unwrap_err()
            .to_string();
        assert!(e.contains("writes .npz"), "{e}");
    }
}
