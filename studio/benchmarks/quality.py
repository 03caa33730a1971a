"""Quality benchmark: the studio's VAE against PCA and the textbook VAE.

    python -m studio.benchmarks.quality --model default --train TRAIN --held HELD \
        [--textbook-seconds 300] [--sheets DIR] [--json]
    python -m studio.benchmarks.quality [--seconds 60] [--json]     # the built-in faces

With --model: a trained model (the shipped default, say) on held-out people. TRAIN and HELD are
folders of LFW photos split by person (`python -m studio.benchmarks.lfw` makes them); both are
framed by the studio's own framing for the model's size and colour. On HELD it reports the model's
PSNR (decoded from mu, over all pixels, as `eval`), sharpness (the reconstructions' mean squared
image gradient over the inputs') and KL; beside it, in the same run, PCA with as many components
as the model has latent dims (fitted on 2,000 TRAIN faces) and the textbook VAE (Kingma and
Welling's MLP, 400 hidden units, the model's latent dims, Bernoulli likelihood) trained on TRAIN
for --textbook-seconds. With --sheets it writes a contact sheet of prior samples (from the
fitted prior the studio draws from, and from N(0, I)) and one of held-out reconstructions.

Without --model: the original comparison on the built-in faces.

On an 80/20 split (fixed seed) of the built-in faces, written out as a folder of grey photos, it
trains (1) Face Studio's VAE through the real `face-studio train` command at 16 latent dims with
`--max-seconds S`, and (2) the textbook VAE of Kingma and Welling (2013): an MLP D-400-16 with a
Bernoulli likelihood, Adam 1e-3, batch 128, for the same S seconds in the same run. Both are
evaluated on the 20 held-out faces (other people's photos) at the model's resolution: PSNR of the
reconstruction decoded from mu, and the mean KL per image. It prints the figures; it passes or
fails nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.nn import functional as F

from studio import cli
from studio.engine import data
from studio.engine.checkpoint import load_model
from studio.engine.evaluate import evaluate


class TextbookVAE(nn.Module):
    """MLP encoder D-400-(16, 16) and decoder 16-400-D, tanh hidden units, Bernoulli output."""

    def __init__(self, d: int, hidden: int = 400, latent: int = 16):
        super().__init__()
        self.enc = nn.Linear(d, hidden)
        self.stats = nn.Linear(hidden, 2 * latent)
        self.dec = nn.Sequential(nn.Linear(latent, hidden), nn.Tanh(), nn.Linear(hidden, d))

    def encode(self, x):
        mu, logvar = self.stats(torch.tanh(self.enc(x))).chunk(2, dim=1)
        return mu, logvar

    def loss(self, x):
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        rec = F.binary_cross_entropy_with_logits(self.dec(z), x, reduction="none").sum(1)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)
        return (rec + kl).mean()


def train_textbook(x: torch.Tensor, seconds: float, seed: int = 0,
                   latent: int = 16) -> tuple[TextbookVAE, int]:
    torch.manual_seed(seed)
    model = TextbookVAE(x.shape[1], latent=latent)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(seed)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for idx in torch.randperm(len(x), generator=g).split(128):
            if time.perf_counter() - start >= seconds:
                break
            opt.zero_grad()
            model.loss(x[idx]).backward()
            opt.step()
            steps += 1
    return model, steps


@torch.no_grad()
def eval_textbook(model: TextbookVAE, x: torch.Tensor) -> dict:
    mu, logvar = model.encode(x)
    mse = float((torch.sigmoid(model.dec(mu)) - x).pow(2).mean())
    kl = float(0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1).mean())
    return {"psnr_db": 10 * math.log10(1 / mse), "recon_mse": mse, "kl_nats": kl}


def write_folder(images: torch.Tensor, folder: Path) -> None:
    folder.mkdir(parents=True)
    for i, im in enumerate(images):
        Image.fromarray(im[0].numpy()).save(folder / f"face-{i:03d}.png")


def _sharpness(recon: torch.Tensor, x: torch.Tensor) -> float:
    from studio.engine.evaluate import gradient_energy

    return gradient_energy(recon) / gradient_energy(x)


def _psnr(recon: torch.Tensor, x: torch.Tensor) -> float:
    return 10 * math.log10(1 / float((recon - x).pow(2).mean()))


def lfw_main(a) -> int:
    from studio.engine import export
    from studio.engine.inference import FaceModel

    torch.manual_seed(a.seed)
    fm = FaceModel.open(a.model)
    cfg = fm.config
    train = data.load_folder(a.train, cfg.image_size, cfg.channels)
    held = data.load_folder(a.held, cfg.image_size, cfg.channels)
    ours = evaluate(fm.model, held).to_dict()
    x_held = held.as_float()
    shape = x_held.shape[1:]
    rng = np.random.default_rng(a.seed)
    pick = rng.choice(len(train), min(2000, len(train)), replace=False)
    xt = train.as_float()[torch.from_numpy(np.sort(pick))].flatten(1).double()
    # PCA with the model's latent dims
    mean = xt.mean(0)
    _, _, v = torch.linalg.svd(xt - mean, full_matrices=False)
    comps = v[: cfg.latent_dim]
    xh = x_held.flatten(1).double()
    pca_rec = (((xh - mean) @ comps.T) @ comps + mean).clamp(0, 1).float().view(-1, *shape)
    pca = {"psnr_db": _psnr(pca_rec, x_held), "sharpness": _sharpness(pca_rec, x_held)}
    # the textbook VAE, trained on every training face for the same budget
    x_train_all = train.as_float().flatten(1)
    base, steps = train_textbook(x_train_all, a.textbook_seconds, a.seed, latent=cfg.latent_dim)
    with torch.no_grad():
        mu_b, logvar_b = base.encode(x_held.flatten(1))
        tb_rec = torch.sigmoid(base.dec(mu_b)).view(-1, *shape)
        tb_kl = float(0.5 * (mu_b.pow(2) + logvar_b.exp() - 1 - logvar_b).sum(1).mean())
    textbook = {"psnr_db": _psnr(tb_rec, x_held), "sharpness": _sharpness(tb_rec, x_held),
                "kl_nats": tb_kl, "steps": steps, "seconds": a.textbook_seconds}
    r = {"model": fm.name, "held_images": len(held), "train_images": len(train),
         "resolution": f"{cfg.channels}x{cfg.image_size}x{cfg.image_size}",
         "latent_dim": cfg.latent_dim, "studio": ours, "pca": pca, "textbook": textbook}
    if a.sheets:
        out = Path(a.sheets)
        out.mkdir(parents=True, exist_ok=True)
        for prior in ("fitted", "standard"):
            z = fm.sample(64, 1.0, a.seed, prior)
            export.save_png(export.grid(list(fm.decode(z)), cols=8), out / f"samples-{prior}.png",
                            scale=2)
        idx = rng.choice(len(held), 16, replace=False)
        imgs = held.images[torch.from_numpy(idx)]
        inputs = [im.permute(1, 2, 0).numpy().squeeze() for im in imgs]
        recons = list(fm.reconstruct(inputs))
        pairs = [im for pair in zip(inputs, recons) for im in pair]
        export.save_png(export.grid(pairs, cols=8), out / "reconstructions.png", scale=2)
        r["sheets"] = str(out)
    if a.json:
        print(json.dumps(r))
        return 0
    print(f"{fm.name}: {len(held)} held-out photos of other people, {r['resolution']}, "
          f"{cfg.latent_dim} latent dims")
    print(f"{'model':<34}{'PSNR dB':>9}{'sharpness':>11}{'KL nats':>9}")
    print(f"{'Face Studio (' + fm.name + ')':<34}{ours['psnr_db']:>9.2f}{ours['sharpness']:>11.3f}"
          f"{ours['kl_nats']:>9.1f}")
    print(f"{'PCA, ' + str(cfg.latent_dim) + ' components':<34}{pca['psnr_db']:>9.2f}"
          f"{pca['sharpness']:>11.3f}{'-':>9}")
    print(f"{'textbook MLP VAE, ' + str(int(a.textbook_seconds)) + ' s':<34}"
          f"{textbook['psnr_db']:>9.2f}{textbook['sharpness']:>11.3f}{textbook['kl_nats']:>9.1f}")
    if a.sheets:
        print(f"sheets: {a.sheets}/samples-fitted.png, samples-standard.png, reconstructions.png")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m studio.benchmarks.quality")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--model", help="a trained model (e.g. default): measure it on --held")
    ap.add_argument("--train", help="training-side photos (PCA and the textbook VAE learn here)")
    ap.add_argument("--held", help="held-out people's photos")
    ap.add_argument("--textbook-seconds", type=float, default=300.0)
    ap.add_argument("--sheets", metavar="DIR", help="write sample and reconstruction sheets")
    a = ap.parse_args(argv)
    if a.model:
        if not (a.train and a.held):
            ap.error("--model needs --train and --held")
        return lfw_main(a)

    raw = (np.asarray(__import__("skimage.data").data.lfw_subset()[:100]) * 255 + 0.5).astype(np.uint8)
    order = np.random.default_rng(a.seed).permutation(len(raw))
    train_idx, test_idx = order[:80], order[80:]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        raw_t = torch.from_numpy(raw)[:, None]
        write_folder(raw_t[train_idx], tmp / "train")
        write_folder(raw_t[test_idx], tmp / "test")
        out = tmp / "studio.pt"
        t0 = time.perf_counter()
        cli.main(["train", str(tmp / "train"), "--out", str(out), "--latent-dim", "16",
                  "--max-seconds", str(a.seconds), "--seed", str(a.seed), "--device", "cpu",
                  "--quiet"])
        studio_s = time.perf_counter() - t0
        model, mf = load_model(out)
        test = data.load_folder(tmp / "test", mf.config.image_size, mf.config.channels)
        train = data.load_folder(tmp / "train", mf.config.image_size, mf.config.channels)
        ours = evaluate(model, test).to_dict()
        ours_train = evaluate(model, train).to_dict()

        xt = train.as_float().flatten(1)
        xs = test.as_float().flatten(1)
        base, steps = train_textbook(xt, a.seconds, a.seed)
        theirs = eval_textbook(base, xs)
        theirs_train = eval_textbook(base, xt)

    result = {
        "seconds": a.seconds, "train_images": 80, "test_images": 20,
        "resolution": f"{mf.config.channels}x{mf.config.image_size}x{mf.config.image_size}",
        "studio": {**ours, "train_psnr_db": ours_train["psnr_db"], "steps": mf.meta["steps"],
                   "wall_s": studio_s},
        "textbook": {**theirs, "train_psnr_db": theirs_train["psnr_db"], "steps": steps},
        "psnr_gain_db": ours["psnr_db"] - theirs["psnr_db"],
    }
    if a.json:
        print(json.dumps(result))
        return 0
    print(f"Held-out PSNR, {result['resolution']}, 80 train / 20 test built-in faces, "
          f"{a.seconds:.0f} s each on {torch.get_num_threads()} CPU threads")
    print(f"{'model':<28}{'test PSNR dB':>14}{'train PSNR dB':>15}{'KL nats':>10}{'steps':>8}")
    for label, r in (("Face Studio conv VAE", result["studio"]),
                     ("textbook MLP VAE 400-16", result["textbook"])):
        print(f"{label:<28}{r['psnr_db']:>14.2f}{r['train_psnr_db']:>15.2f}{r['kl_nats']:>10.1f}"
              f"{r['steps']:>8d}")
    print(f"gain: {result['psnr_gain_db']:+.2f} dB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
