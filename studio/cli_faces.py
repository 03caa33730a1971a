"""The command line's commands on faces and models (all but train and the window): eval,
frame, direction, edit, slim, encode, morph, manifold, sample and atlas. Argument parsing is in
studio.cli_args; the work is done by studio.engine."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

from studio.cli_args import EXIT_BAD_INPUT, PROG, _check_out


def cmd_eval(a) -> int:
    from studio.engine import data
    from studio.engine.evaluate import evaluate
    from studio.engine.inference import FaceModel

    fm = FaceModel.open(a.model)
    faces = data.load_dataset(a.data, fm.config.image_size, fm.config.channels, a.framing)
    r = evaluate(fm.model, faces)
    if a.json:
        print(json.dumps(r.to_dict()))
    else:
        print(f"{fm.name} on {faces.description['name']} ({r.images} images, "
              f"{fm.config.channels}x{fm.config.image_size}x{fm.config.image_size})")
        print(f"  PSNR       {r.psnr_db:8.2f} dB")
        print(f"  recon MSE  {r.recon_mse:8.5f}")
        print(f"  sharpness  {r.sharpness:8.3f} (1.0: as sharp as the inputs)")
        print(f"  KL         {r.kl_nats:8.2f} nats")
        print(f"  -ELBO      {r.neg_elbo_nats:8.2f} nats")
    return 0


def cmd_frame(a) -> int:
    from studio.engine import checkpoint, data, export
    from studio.engine.errors import ImageError, StudioError
    from studio.engine.faces import Crop

    mf = checkpoint.load_model_file(checkpoint.find_model(a.model))
    cfg, crop = mf.config, Crop.from_description(mf.dataset)
    out = Path(a.out)
    if out.exists() and not out.is_dir():
        raise StudioError(f"{out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    bad = 0
    used: set[str] = set()
    for path in a.images:
        try:
            f = data.load_photo(path, cfg.image_size, cfg.channels, a.framing, crop)
        except ImageError as e:
            print(f"{PROG}: error: {e}", file=sys.stderr)
            bad += 1
            continue
        name = Path(path).stem
        while name in used:  # two photos of one name in different folders
            name += "_"
        used.add(name)
        target = out / f"{name}.png"
        # enlarged by repeating pixels, so that the model's own pixels stay visible
        pixels = f.image.repeat(a.scale, axis=0).repeat(a.scale, axis=1)
        export.save_png(pixels, target)
        how = ""
        if f.method == "face":  # what found it, and the turn
            turn = f", turned {f.angle:+.1f} deg" if f.angle else ""
            how = f" (by {f.found_by}{turn})" if f.found_by else ""
        note = f" ({f.note})" if f.note else ""
        print(f"{path}: {f.method}{how} -> {target}{note}")
    return EXIT_BAD_INPUT if bad else 0


def _group_mus(fm, items, framing, flag):
    """mu of every photo named, or found in the folders named."""
    import numpy as np

    from studio.engine import data
    from studio.engine.errors import StudioError

    paths = []
    for it in items:
        p = Path(it)
        paths.extend(data.folder_images(p) if p.is_dir() else [p])
    if not paths:
        raise StudioError(f"{flag}: no images in {' '.join(items)}")
    return np.stack([e.mu for e in _encode_all(fm, paths, framing)])


def _group_words(items: list[str], limit: int = 200) -> str:
    """What a group was, for the directions file: the names given, or as many as fit in
    `limit` characters (the file's own limit) and how many more."""
    text = " ".join(items)
    if len(text) <= limit:
        return text
    for k in range(len(items) - 1, 0, -1):
        text = f"{' '.join(items[:k])} and {len(items) - k} more"
        if len(text) <= limit:
            return text
    return f"{len(items)} photos or folders"


def cmd_direction(a) -> int:
    from studio.engine import session
    from studio.engine.directions import KEEPS, Direction
    from studio.engine.inference import FaceModel

    out = _check_out(a.out, (".json",))
    fm = FaceModel.open(a.model)
    held = [d for f in a.hold for d in session.load_directions(f, fm.latent_dim)]
    plus = _group_mus(fm, a.plus, a.framing, "--plus")
    minus = _group_mus(fm, a.minus, a.framing, "--minus")
    d = Direction.from_groups(a.name, plus, minus, positive=_group_words(a.plus),
                              negative=_group_words(a.minus), hold=held, balance=a.balance)
    if a.keep:
        d = d.keeping(a.keep, fm.keep_still(d.vector, a.keep))
    d.effective  # noqa: B018 (raises if nothing is left once the held directions are taken out)
    session.save_directions(out, [d], fm.latent_dim)
    held_txt = f", holding {', '.join(h.name for h in held)}" if held else ""
    if a.keep:
        held_txt += f", keeping {KEEPS[a.keep][1]} still"
    print(f"wrote {out}: '{a.name}' from {len(plus)} + and {len(minus)} - faces{held_txt}; "
          f"separation AUC {d.auc:.3f} (cross-validated; 0.5 is none, 1.0 complete)")
    if d.warning:
        print(f"{PROG}: warning: {a.name}: {d.warning}", file=sys.stderr)
    return 0


def cmd_edit(a) -> int:
    import numpy as np

    from studio.engine import export, session
    from studio.engine import kept as kept_mod
    from studio.engine.errors import StudioError
    from studio.engine.inference import FaceModel

    fm = FaceModel.open(a.model)
    dirs = session.load_directions(a.direction, fm.latent_dim)
    if not dirs:
        raise StudioError(f"{a.direction}: holds no direction")
    if a.name:
        dirs = [d for d in dirs if d.name == a.name]
        if not dirs:
            raise StudioError(f"{a.direction}: has no direction named '{a.name}'")
    d = dirs[0]
    out, single = _png_or_folder(a.out, len(a.images))
    amounts = a.amounts or (a.amount,)
    for e in _encode_all(fm, a.images, a.framing, keep=not a.encoder_only):
        # the person kept while edited: the edit moves the kept z, painted with its tail
        faces = np.concatenate([fm.decode(d.apply(e.z, x), kept_mod.only(e.kept), e.z)
                                for x in amounts])
        image = faces[0] if len(amounts) == 1 else export.grid(list(faces), cols=len(amounts))
        target = out if single else out / f"{Path(e.path).stem}-{d.name}.png"
        export.save_png(image, target, scale=a.scale)
        print(f"{e.path} -> {target} ({d.name} at {', '.join(f'{x:+g}' for x in amounts)})")
    return 0


def cmd_slim(a) -> int:
    import dataclasses

    from studio.engine import checkpoint, data
    from studio.engine.faces import Crop

    out = _check_out(a.out, (".pt",))
    mf = checkpoint.load_model_file(checkpoint.find_model(a.model))
    cfg = mf.config
    dataset = dict(mf.dataset)
    if a.examples:
        crop = Crop.from_description(mf.dataset)
        dataset = checkpoint.with_examples(dataset, [
            (Path(p).stem, data.load_photo(p, cfg.image_size, cfg.channels, "auto", crop).image)
            for p in a.examples])
    if a.data_name:
        dataset["name"] = a.data_name
    meta = {k: v for k, v in mf.meta.items() if k != "path"}
    slim = dataclasses.replace(mf, train_state=None, dataset=dataset, meta=meta)
    checkpoint.save_model(out, slim)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB; no training state"
          + (f", {len(a.examples)} example faces" if a.examples else "") + ")")
    return 0


def _png_or_folder(out: str, photos: int) -> tuple[Path, bool]:
    """Where a face per photo goes: one .png for one photo, else a folder (made); (path, whether
    it is one .png)."""
    from studio.engine.errors import StudioError

    path = Path(out)
    single = path.suffix.lower() == ".png"
    if single and photos > 1:
        raise StudioError(f"{path}: one .png holds one photo's face; give a folder for "
                          f"{photos} photos")
    if not single:
        if path.exists() and not path.is_dir():
            raise StudioError(f"{path}: exists and is not a folder")
        path.mkdir(parents=True, exist_ok=True)
    return path, single


def _encode_all(fm, paths, framing, keep: bool = False):
    """Each photo described; with `keep`, also kept its person (`keeping`: a second or two a
    photo), its face then the kept one."""
    import dataclasses

    from studio.engine import kept as kept_mod

    out = []
    keeper = fm.keeper() if keep else None
    for path in paths:
        enc = fm.encode_photo(path, framing)
        if enc.note:
            logging.getLogger(PROG).warning("%s: %s", path, enc.note)
        if keeper is not None:
            k = keeper.keep(enc.framed, enc.mu)
            face = fm.decode(k.z, kept_mod.only(k))[0]
            enc = dataclasses.replace(enc, kept=k, kept_face=face)
            print(f"{path}: kept ({k.psnr_db:.1f} dB, {k.seconds:.1f} s)", file=sys.stderr)
        out.append(enc)
    return out


def cmd_encode(a) -> int:
    from studio.engine.inference import FaceModel

    fm = FaceModel.open(a.model)
    encoded = _encode_all(fm, a.images, a.framing, keep=not a.encoder_only)
    if a.json:
        print(json.dumps([{"image": e.path, "framing": e.method,
                           "mu": [round(float(v), 6) for v in e.mu],
                           "sigma": [round(float(v), 6) for v in e.sigma],
                           **({} if e.kept is None else {"kept": {
                               "z": [round(float(v), 6) for v in e.kept.z],
                               "psnr_db": round(e.kept.psnr_db, 3)}})} for e in encoded]))
        return 0
    for e in encoded:
        kept = "" if e.kept is None else f"; kept: {e.kept.psnr_db:.1f} dB, kept z beside mu"
        print(f"{e.path} (framing: {e.method}{kept})")
        for i, (m, s) in enumerate(zip(e.mu, e.sigma)):
            z = "" if e.kept is None else f"   kept z {e.kept.z[i]:+8.4f}"
            print(f"  z{i:<3d} {m:+8.4f} +- {s:.4f}{z}")
    return 0


def cmd_reconstruct(a) -> int:
    """Each photo beside its face: kept (the default) or the encoder's alone."""
    import numpy as np

    from studio.engine import export
    from studio.engine.inference import FaceModel

    out, single = _png_or_folder(a.out, len(a.images))
    fm = FaceModel.open(a.model)
    for e in _encode_all(fm, a.images, a.framing, keep=not a.encoder_only):
        target = out if single else out / f"{Path(e.path).stem}-face.png"
        export.save_png(export.grid([e.framed, e.face], cols=2), target, scale=a.scale)
        mse = np.mean((e.face.astype(np.float64) - e.framed) ** 2)
        word = "kept" if e.kept is not None else "encoder"
        print(f"{e.path} -> {target} ({word}: {10 * np.log10(255 ** 2 / max(mse, 1e-12)):.1f} dB)")
    return 0


def cmd_morph(a) -> int:
    import numpy as np

    from studio.engine import export, latent
    from studio.engine import kept as kept_mod
    from studio.engine.errors import StudioError
    from studio.engine.inference import FaceModel

    if len(a.faces) < 2:
        raise StudioError("morph needs at least two images (A B [C ...])")
    out = _check_out(a.out, export.MORPH_SUFFIXES)
    if a.sheet and out.suffix.lower() != ".png":
        raise StudioError(f"{out}: --sheet writes a .png")
    fm = FaceModel.open(a.model)
    faces = _encode_all(fm, a.faces, a.framing, keep=not a.encoder_only)
    keys = np.stack([e.z for e in faces])
    # every frame decoded from its own z and its own blend of the kept photos' tails: the ends
    # are those people, and nothing is cross-faded
    z = latent.path(keys, a.frames, a.path, a.easing, a.loop)
    weights = latent.path_weights(len(keys), a.frames, a.easing, a.loop)
    kepts = [e.kept for e in faces]
    frames = np.concatenate([fm.decode(f, kept_mod.between(w, kepts))
                             for f, w in zip(z, weights)])
    export.save_morph(list(frames), out, duration_ms=a.duration, scale=a.scale, sheet=a.sheet)
    print(f"wrote {out}: {len(frames)} frames")
    return 0


def cmd_manifold(a) -> int:
    from studio.engine import export
    from studio.engine.errors import StudioError
    from studio.engine.inference import FaceModel

    out = _check_out(a.out, (".png",))
    if not a.tail < 0.5:
        raise StudioError(f"--tail must be below 0.5, not {a.tail}")
    if a.n > 64:
        raise StudioError(f"--n {a.n}: at most 64 faces per side")
    fm = FaceModel.open(a.model)
    if a.map == "atlas" and fm.latent_dim == 2:
        raise StudioError(f"{a.model}: a 2-D model's map is its latent plane; it has no atlas")
    proj, xr, yr = fm.manifold_region(a.tail, a.map)
    export.save_png(fm.manifold(a.n, proj, xr, yr), out, scale=a.scale)
    n_faces = len(fm.training_mu())
    plane = "its latent plane" if fm.latent_dim == 2 else (
        f"the face atlas of its {n_faces} training faces" if not proj.linear else
        f"the PCA plane through the mean of its {n_faces} training faces")
    print(f"wrote {out}: {a.n} x {a.n} faces across {plane}, x {xr[0]:+.2f}..{xr[1]:+.2f}, "
          f"y {yr[0]:+.2f}..{yr[1]:+.2f}")
    return 0


def cmd_sample(a) -> int:
    from studio.engine import export
    from studio.engine.inference import FaceModel

    out = _check_out(a.out, (".png",))
    fm = FaceModel.open(a.model)
    z = fm.sample(a.n, a.temperature, a.seed, a.prior)
    export.save_png(export.grid(list(fm.decode(z))), out, scale=a.scale)
    print(f"wrote {out}: {a.n} faces, temperature {a.temperature}, seed {a.seed}, "
          f"prior {a.prior}")
    return 0


def cmd_atlas(a) -> int:
    from studio.engine import checkpoint
    from studio.engine.errors import StudioError
    from studio.engine.run import add_atlas

    src = checkpoint.find_model(a.model)
    out = _check_out(a.out, (".pt",)) if a.out else Path(src)
    mf = checkpoint.load_model_file(src)
    if mf.config.latent_dim <= 2:
        raise StudioError(f"{src}: a 2-D model's map is its latent plane; it needs no atlas")
    if mf.train_mu is None or len(mf.train_mu) < 8:
        raise StudioError(f"{src}: the file holds too few training faces' mu for an atlas")
    start, shown = time.monotonic(), [-1]

    def progress(f):
        if int(f * 10) != shown[0]:
            shown[0] = int(f * 10)
            print(f"laying out {len(mf.train_mu)} faces: {f:.0%}", file=sys.stderr, flush=True)

    made = add_atlas(mf, seed=a.seed, threads=os.cpu_count() or 1, progress=progress)
    checkpoint.save_model(out, made)
    print(f"wrote {out}: the face atlas of {len(mf.train_mu)} training faces "
          f"({made.atlas['method']}, {time.monotonic() - start:.0f} s)")
    return 0
