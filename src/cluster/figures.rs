//! SVG figures of a layer's clustering (the paper's Fig. 3B/C): the distance matrix of all
//! student neurons in dendrogram order, and the dendrogram with the cut.

use std::fmt::Write;

use super::dendrogram::Dendrogram;
use super::layer::LayerClustering;
use super::neuron::distance;

/// A colour on a dark-blue → yellow ramp for `t ∈ [0, 1]`.
fn ramp(t: f64) -> String {
    let t = t.clamp(0.0, 1.0);
    // Piecewise-linear through (68,1,84) → (59,82,139) → (33,145,140) → (94,201,98) → (253,231,37)
    // (anchor colours of the viridis map).
    const A: [[f64; 3]; 5] = [
        [68.0, 1.0, 84.0],
        [59.0, 82.0, 139.0],
        [33.0, 145.0, 140.0],
        [94.0, 201.0, 98.0],
        [253.0, 231.0, 37.0],
    ];
    let s = t * 4.0;
    let i = (s.floor() as usize).min(3);
    let f = s - i as f64;
    let c: Vec<u8> = (0..3)
        .map(|k| (A[i][k] + f * (A[i + 1][k] - A[i][k])).round() as u8)
        .collect();
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// The pairwise-distance matrix of the layer's canonical neuron vectors, rows and columns in
/// dendrogram leaf order, with the kept clusters outlined.
pub fn similarity_svg(c: &LayerClustering, title: &str) -> String {
    let order = c.dendrogram.leaf_order();
    let n = order.len();
    let cell = (600.0 / n.max(1) as f64).clamp(1.0, 24.0);
    let (left, top) = (40.0, 40.0);
    let size = cell * n as f64;
    let mut dmax: f64 = 0.0;
    let mut dist = vec![0.0; n * n];
    for (a, &i) in order.iter().enumerate() {
        for (b, &j) in order.iter().enumerate() {
            let d = distance(&c.points[i], &c.points[j]);
            dist[a * n + b] = d;
            dmax = dmax.max(d);
        }
    }
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"#,
        w = left + size + 90.0,
        h = top + size + 20.0
    );
    let _ = write!(s, r#"<text x="{left}" y="20">{title}</text>"#);
    for a in 0..n {
        for b in 0..n {
            let t = if dmax > 0.0 {
                dist[a * n + b] / dmax
            } else {
                0.0
            };
            let _ = write!(
                s,
                r#"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="{}"/>"#,
                left + cell * b as f64,
                top + cell * a as f64,
                cell + 0.05,
                cell + 0.05,
                ramp(t)
            );
        }
    }
    // Outline kept clusters (contiguous in leaf order).
    let pos: Vec<usize> = {
        let mut p = vec![0; n];
        for (a, &i) in order.iter().enumerate() {
            p[i] = a;
        }
        p
    };
    for cl in c.clusters.iter().filter(|cl| cl.neuron.is_some()) {
        let lo = cl.observations.iter().map(|&i| pos[i]).min();
        let hi = cl.observations.iter().map(|&i| pos[i]).max();
        if let (Some(a), Some(b)) = (lo, hi) {
            let _ = write!(
                s,
                r#"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="none" stroke="red" stroke-width="1.5"/>"#,
                left + cell * a as f64,
                top + cell * a as f64,
                cell * (b - a + 1) as f64,
                cell * (b - a + 1) as f64
            );
        }
    }
    // Colour bar.
    let bx = left + size + 20.0;
    for k in 0..50 {
        let t = k as f64 / 49.0;
        let _ = write!(
            s,
            r#"<rect x="{bx}" y="{:.2}" width="15" height="{:.2}" fill="{}"/>"#,
            top + size * t,
            size / 50.0 + 0.5,
            ramp(t)
        );
    }
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}">0</text><text x="{:.1}" y="{:.1}">{:.2}</text><text x="{:.1}" y="{:.1}">L2</text></svg>"#,
        bx + 18.0,
        top + 10.0,
        bx + 18.0,
        top + size,
        dmax,
        bx,
        top - 8.0
    );
    s
}

/// The dendrogram (average linkage, L2) with the cut as a dashed red line.
pub fn dendrogram_svg(c: &LayerClustering, title: &str) -> String {
    let d: &Dendrogram = &c.dendrogram;
    let order = d.leaf_order();
    let n = d.n;
    let (left, top, w, h) = (60.0, 40.0, 900.0, 400.0);
    let hmax = d.merges.last().map_or(1.0, |m| m.height).max(1e-300);
    let xs = |i: f64| left + w * (i + 0.5) / n.max(1) as f64;
    let ys = |v: f64| top + h * (1.0 - v / hmax);
    let mut x = vec![0.0; n + d.merges.len()];
    let mut y = vec![0.0; n + d.merges.len()];
    for (p, &i) in order.iter().enumerate() {
        x[i] = xs(p as f64);
        y[i] = ys(0.0);
    }
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif" font-size="12">"#,
        left + w + 20.0,
        top + h + 40.0
    );
    let _ = write!(s, r#"<text x="{left}" y="20">{title}</text>"#);
    for (k, m) in d.merges.iter().enumerate() {
        let node = n + k;
        let yn = ys(m.height);
        x[node] = 0.5 * (x[m.a] + x[m.b]);
        y[node] = yn;
        let _ = write!(
            s,
            r#"<polyline fill="none" stroke="black" stroke-width="0.8" points="{:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1}"/>"#,
            x[m.a], y[m.a], x[m.a], yn, x[m.b], yn, x[m.b], y[m.b]
        );
    }
    let cut = match c.cut.next_height {
        Some(next) => 0.5 * (c.cut.height + next),
        None => c.cut.height,
    };
    let _ = write!(
        s,
        r#"<line x1="{left}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="red" stroke-dasharray="6,4"/><text x="{:.1}" y="{:.1}" fill="red">cut {:.3e}: {} clusters ≥ γN = {:.1}</text>"#,
        left + w,
        ys(cut),
        ys(cut),
        left + 5.0,
        ys(cut) - 4.0,
        cut,
        c.cut.large_clusters,
        c.min_size
    );
    // Axis.
    let _ = write!(
        s,
        r#"<line x1="{left}" x2="{left}" y1="{top}" y2="{:.1}" stroke="black"/><text x="5" y="{:.1}">{:.2}</text><text x="5" y="{:.1}">0</text><text x="{:.1}" y="{:.1}">student neurons (leaf order)</text></svg>"#,
        top + h,
        top + 4.0,
        hmax,
        top + h,
        left + w / 2.0 - 80.0,
        top + h + 25.0
    );
    s
}
