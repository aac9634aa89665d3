"""Draw docs/images/architecture.png: tinygan's layers and one DCGAN training step through them.

    python docs/make_architecture.py            # writes docs/images/architecture.png

The same picture is drawn as text in docs/architecture.md; change both together.
Plain matplotlib (a runtime dependency already), no tinygan import: the figure
describes the package, it does not run it.
"""
from __future__ import annotations

import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "images", "architecture.png")

# one colour per layer, used by both panels so a step's box shows the layer it runs in
COLOURS = {
    "backend": "#d9e8f5", "autograd": "#dcefdc", "ops": "#fbe5c8", "nn": "#f6d5d5",
    "optim": "#e6dcf2", "gan": "#fff3b0", "data": "#dff2f2", "cli": "#e5e5e5",
    "testing": "#ffffff",
}

# the layers, bottom-up: (key, title, what it holds)
LAYERS = [
    ("backend", "backend", "backend.py: xp() = NumPy or CuPy, to_device,\n"
                           "to_numpy, dtypes, seeded RNG, register_backend"),
    ("autograd", "autograd", "autograd.py: Tensor, Function (forward on arrays,\n"
                             "backward on Tensors), backward(), grad()"),
    ("ops", "ops", "ops/: elementwise, reduce, shape, linalg, loss,\n"
                   "activation, conv (im2col + GEMM), batchnorm"),
    ("nn", "nn", "nn/: Module, Linear, Conv2d, ConvTranspose2d,\n"
                 "BatchNorm2d, LeakyReLU, ...; serialization.py"),
    ("optim", "optim", "optim/: Optimizer (param_groups, lr, state_dict),\n"
                       "SGD, Adam, RMSprop"),
    ("gan", "gan", None),  # drawn as its own boxes, below
    ("data", "data, metrics,\nplots, theory", "data/ (toy mixtures, MNIST, DataLoader),\n"
                                             "metrics/, plots.py, theory.py (host NumPy)"),
    ("cli", "cli", "cli.py: tinygan train | sample | demo;\ndemo.py"),
]

GAN_FILES = [  # the gan layer's modules, in the order a run uses them
    ("config.py", "TrainConfig,\npaper defaults"), ("factory.py", "models and\noptimisers"),
    ("models.py", "MLP / DCGAN\nG and D"), ("losses.py", "V(D,G), critic\nloss, penalty"),
    ("steps.py", "discriminator_step\ngenerator_step\ncritic_step, frozen"),
    ("loops.py", "gan_loop, wgan_loop\nwgan_gp_loop:\none record per G step"),
    ("streams.py", "real() / noise()\ndata streams"),
    ("run.py", "Run: folder, metrics\n.jsonl, NaN stop"),
    ("checkpoint.py", "save / resume"), ("outputs.py", "figures,\nsummary"),
    ("sample.py", "samples from a\ncheckpoint"), ("train.py", "train(config)"),
]

# one DCGAN training step: (layer key, text); the discriminator's and the generator's columns
D_STEP = [
    ("gan", "gan/streams.py  real():  host batch x, NumPy (64, 1, 28, 28)"),
    ("backend", "backend.to_device(x)  (a no-op on NumPy, a copy to the GPU on CuPy)"),
    ("autograd", "Tensor(x)"),
    ("gan", "DCGANDiscriminator (gan/models.py), an nn.Sequential"),
    ("nn", "nn.Conv2d(1→64, k4 s2 p1)  →  ops.conv2d:  im2col + GEMM"),
    ("nn", "nn.BatchNorm2d  →  ops.batch_norm  (batch statistics in training)"),
    ("nn", "nn.LeakyReLU(0.2)  →  ops.leaky_relu  →  …  →  logit"),
    ("gan", "gan/losses.discriminator_loss  →  ops.binary_cross_entropy_with_logits"),
    ("autograd", "loss.backward():  each Function.backward, last op first\n"
                 "(conv2d's = conv_transpose2d for ∂x + conv2d_weight for ∂w)"),
    ("optim", "Adam.step():  D's parameters updated in place"),
]
G_STEP = [
    ("gan", "gan/streams.py  noise():  z ~ N(0, I)  (backend.randn)"),
    ("gan", "DCGANGenerator (gan/models.py)"),
    ("nn", "nn.ConvTranspose2d  →  ops.conv_transpose2d:\nGEMM + col2im"),
    ("nn", "nn.BatchNorm2d, nn.ReLU, …, nn.Tanh  →  fake"),
    ("gan", "D step: D(fake.detach())\n(left column, from its 4th box)"),
    ("gan", "gan/steps.generator_step: frozen(D),\ngenerator_loss(D(fake))"),
    ("autograd", "backward through D into G"),
    ("optim", "Adam.step() on G"),
    ("gan", "gan/loops.py yields the record →\ngan/run.py: metrics.jsonl, progress,\n"
            "NaN stop, checkpoint.py, outputs.py"),
]


def box(ax, x, y, w, h, colour, text=None, title=None, size=8.5, bold_title=True):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.004,rounding_size=0.008",
                                fc=colour, ec="0.35", lw=0.8))
    if title is not None:
        ax.text(x + 0.008, y + h / 2, title, ha="left", va="center", size=size + 1,
                weight="bold" if bold_title else "normal")
    if text is not None:
        ax.text(x + (0.12 if title is not None else w / 2), y + h / 2, text,
                ha="left" if title is not None else "center", va="center", size=size,
                linespacing=1.25)


def arrow(ax, a, b, text=None, colour="0.25", style="-|>", rad=0.0, size=7.5):
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle=style, mutation_scale=10, color=colour,
                                 lw=1.0, connectionstyle=f"arc3,rad={rad}"))
    if text:
        ax.text((a[0] + b[0]) / 2 + 0.004, (a[1] + b[1]) / 2, text, size=size, color=colour,
                ha="left", va="center")


def draw_layers(ax):
    ax.text(0.01, 0.975, "Layers — imports only point down", size=13, weight="bold")
    x0, w = 0.03, 0.385
    y, gap = 0.03, 0.012
    heights = {"gan": 0.30}
    for key, title, text in LAYERS:
        h = heights.get(key, 0.072)
        if key == "gan":
            box(ax, x0, y, w, h, COLOURS[key], None, None)
            ax.text(x0 + 0.008, y + h - 0.02, "gan", size=9.5, weight="bold", va="center")
            ax.text(x0 + 0.06, y + h - 0.02, "gan/: the GAN family on top of the engine",
                    size=8.5, va="center")
            cols, bw, bh = 4, (w - 0.025) / 4, (h - 0.05) / 3
            for i, (name, what) in enumerate(GAN_FILES):
                r, c = divmod(i, cols)
                bx, by = x0 + 0.006 + c * (bw + 0.004), y + h - 0.04 - (r + 1) * (bh + 0.002)
                ax.add_patch(FancyBboxPatch((bx, by), bw, bh, boxstyle="round,pad=0.002",
                                            fc="white", ec="0.55", lw=0.6))
                ax.text(bx + bw / 2, by + bh - 0.012, name, ha="center", va="center",
                        size=8, weight="bold", family="monospace")
                ax.text(bx + bw / 2, by + (bh - 0.02) / 2, what, ha="center", va="center",
                        size=7, linespacing=1.15)
        else:
            box(ax, x0, y, w, h, COLOURS[key], text, title)
        if key == "backend":
            backend_box = (x0, y, w, h)
        y += h + gap
    # imports point down
    arrow(ax, (0.015, 0.93), (0.015, 0.05), None, style="-|>")
    ax.text(0.008, 0.5, "imports", rotation=90, size=8, va="center", ha="center",
            color="0.25", backgroundcolor="white")
    # testing registers the CuPy stand-in from above, so backend names nothing above it
    ax.add_patch(FancyBboxPatch((0.245, 0.932), 0.19, 0.045, boxstyle="round,pad=0.004",
                                fc=COLOURS["testing"], ec="0.35", lw=0.8, ls="--"))
    ax.text(0.34, 0.955, "testing/: gradcheck, gradgradcheck, the CuPy\nstand-in, "
            "registers it with backend.register_backend", ha="center", va="center", size=7.5,
            linespacing=1.15)
    rx, by = 0.428, backend_box[1] + backend_box[3] / 2
    ax.plot([rx, rx], [0.932, by], color="0.25", lw=0.9, ls="--")
    arrow(ax, (rx, by), (backend_box[0] + backend_box[2], by))


def draw_step(ax):
    ax.text(0.46, 0.975, "One DCGAN training step through the layers", size=13, weight="bold")
    columns = [(0.46, 0.295, "discriminator_step (gan/steps.py)", D_STEP),
               (0.775, 0.215, "generator (its step follows D's)", G_STEP)]
    for x0, w, title, steps in columns:
        ax.text(x0, 0.935, title, size=9.5, weight="bold", family="monospace")
        top, h, gap = 0.905, 0.068, 0.021
        for i, (key, text) in enumerate(steps):
            y = top - (i + 1) * h - i * gap
            box(ax, x0, y, w, h, COLOURS[key], text, size=7.8)
            if i:
                arrow(ax, (x0 + w / 2, y + h + gap), (x0 + w / 2, y + h))
    # legend: colour = layer
    for i, key in enumerate(("backend", "autograd", "ops", "nn", "optim", "gan", "data")):
        lx = 0.46 + i * 0.075
        ax.add_patch(FancyBboxPatch((lx, 0.003), 0.012, 0.014, boxstyle="square,pad=0",
                                    fc=COLOURS[key], ec="0.35", lw=0.6))
        ax.text(lx + 0.016, 0.010, key if key != "nn" else "nn (→ ops)", size=7.5, va="center")


def main(out=OUT) -> str:
    fig = plt.figure(figsize=(16, 9.5))
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    draw_layers(ax)
    draw_step(ax)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


if __name__ == "__main__":
    print(main(*sys.argv[1:]))
