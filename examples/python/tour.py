"""The README's Python tour: teacher → data → train → spectrum → recover.

    pip install ./python
    python examples/python/tour.py
"""

import gradflow

# A paper teacher d = 2 → r = 2 → 1 (activation g) and 2 000 samples of its data stream.
teacher = gradflow.paper_teacher(2, 2)
x, y = teacher.sample(2000)

# A student twice as wide, at its Glorot initialisation (a flat float64 vector, SPEC §2).
net = gradflow.Net(2, [(4, "g", True), (1, "identity", True)])
theta0 = net.init(seed=1)
print(net, net.n_params, "parameters; initial loss", net.loss(theta0, x, y))

# Gradient flow, then second-order refinement; options are the CLI's flags with underscores
# (`seed` only labels the record here: the start is theta0).
res = gradflow.train(net, theta0, x, y, seed=1, maxtime_ode=10, maxtime_optim=10)
print(res)

# The Hessian spectrum at the end (ascending): near-zero eigenvalues are the flat directions
# of an overparameterised student.
spectrum = net.hessian_spectrum(res.x, x, y)
print("smallest eigenvalues", spectrum[:3], "largest", spectrum[-1])

# Many seeds in parallel (the GIL is released; Ctrl-C stops them at their best points). Seed 0
# ends in a certified local minimum (loss ≈ 6e-4), the others at round-off.
runs = gradflow.train_seeds(net, x, y, seeds=[0, 1, 2, 3], threads=2, maxtime_ode=5, maxtime_optim=5)
print("losses", [f"{r.loss:.1e}" for r in runs], "end states", [r.end_kind for r in runs])

# Expand-and-Cluster: recover the teacher's width and weights from (x, y) alone; the teacher
# only adds the comparison.
rec = gradflow.recover(
    x, y, students=6, width=4, teacher=(teacher.net, teacher.theta),
    maxtime_ode=5, maxtime_optim=5, finetune_time=5,
)
print(rec, "hidden widths", rec.widths, "rmse", rec.report["rmse"], "success (rmse <= 1e-14)", rec.metrics["success"])
rec.write("tour-recovery")  # what `gradflow recover` writes
