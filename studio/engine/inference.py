"""A loaded model and the operations the studio asks of it, in numpy terms.

`FaceModel` is what the command line and the window's engine thread hold: it frames photos,
encodes them to (mu, sigma), and decodes any z to uint8 faces. It is not thread-safe by itself:
one thread owns it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from studio.engine import data as data_mod
from studio.engine import keeping
from studio.engine import kept as kept_mod
from studio.engine.checkpoint import ModelFile, find_model, load_model_file
from studio.engine.errors import StudioError
from studio.engine.faces import Framed
from studio.engine.kept import Tuning
from studio.engine.latent import Projection, gaussian_extent, manifold_grid
from studio.engine.model import VAE
from studio.engine.model_info import Derived
from studio.engine.photo import Photo
from studio.engine.quick_decode import QuickDecoder


def derive(mf: ModelFile) -> Derived:
    """A model file's maps and fitted prior, from its training mu alone (no weights needed: a
    training thread can work them out for each snapshot): the PCA plane (the latent itself for
    2 dims), and the face atlas where the file carries one."""
    from studio.engine import atlas as atlas_mod
    from studio.engine.latent import FacePrior

    dim = mf.config.latent_dim
    mu = np.zeros((0, dim)) if mf.train_mu is None else mf.train_mu.numpy().astype(np.float64)
    if dim == 2:
        projection = Projection.identity2d()
    elif len(mu) < 2:  # a model file without training mu: the first two dimensions
        projection = Projection.from_dims(dim, 0, min(1, dim - 1))
    else:
        projection = Projection.pca(mu)
    atlas = atlas_mod.from_file(mf.atlas, mu) if dim > 2 else None
    return Derived(projection, FacePrior.fit(mu) if len(mu) > dim else None, atlas)


class FaceModel:
    def __init__(self, model: VAE, file: ModelFile, device: torch.device | str = "cpu"):
        self.device = torch.device(device)
        # channels-last: the convolutions' fast layout on the CPU
        self.model = model.to(self.device, memory_format=torch.channels_last).eval()
        self.file = file
        self.config = file.config
        # what `_per_file` worked out, and for which file: (file, {key: value}), None at first
        self._per_file_cache: tuple[ModelFile, dict] | None = None

    @classmethod
    def open(cls, path: str | Path, device: str = "cpu") -> "FaceModel":
        mf = load_model_file(find_model(path))
        return cls(mf.build(device), mf, device)

    @property
    def name(self) -> str:
        return self.file.name

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def training_mu(self) -> np.ndarray:
        mu = self.file.train_mu
        return np.zeros((0, self.latent_dim)) if mu is None else mu.numpy().astype(np.float64)

    def _per_file(self, key: str, make):
        """`make()`, worked out once per model file: a training snapshot swaps the weights and
        file of this same object, and what was worked out for the old file goes with it."""
        held = self._per_file_cache
        if held is None or held[0] is not self.file:
            held = self._per_file_cache = (self.file, {})
        if key not in held[1]:
            held[1][key] = make()
        return held[1][key]

    def derived(self, given: Derived | None = None) -> Derived:
        """The map's projection and the fitted prior (`derive`), once per model file; `given`:
        already worked out for this file (a training snapshot brings its own)."""
        return self._per_file("derived", lambda: given or derive(self.file))

    def prior(self):
        """Where the training faces lie (a Gaussian fitted to their mu), or None without them:
        what "Random face" and `sample` draw from."""
        return self.derived().prior

    def sample(self, n: int, temperature: float = 1.0, rng=None, prior: str = "fitted"):
        """n faces' z: from the fitted prior, or from N(0, I) (`prior="standard"`)."""
        from studio.engine import latent

        fitted = self.prior() if prior == "fitted" else None
        if fitted is None:
            return latent.prior_samples(self.latent_dim, n, temperature, rng)
        return fitted.sample(n, temperature, rng)

    def projection(self) -> Projection:
        """The plane: the latent itself for 2 dims, else the PCA plane of the training mu."""
        return self.derived().projection

    def atlas(self):
        """The face atlas the model file carries (`atlas.Atlas`), or None."""
        return self.derived().atlas

    def map(self, kind: str = "default"):
        """The map a person clicks: "atlas", "plane", or the default (the atlas where the
        file carries one, else the plane)."""
        if kind == "atlas" and self.atlas() is None:
            raise StudioError(f"{self.name} carries no face atlas: make one with "
                              "face-studio atlas MODEL")
        if kind == "plane":
            return self.projection()
        return self.atlas() or self.projection()

    # -- model calls --------------------------------------------------------------------------
    @torch.no_grad()
    def encode_images(self, images: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Framed uint8 faces -> (mu, sigma), each (N, D) float64."""
        x = data_mod.to_tensor(images).to(self.device)
        mu, logvar = self.model.encode(x)
        return (mu.double().cpu().numpy(), torch.exp(0.5 * logvar).double().cpu().numpy())

    @torch.no_grad()
    def decode(self, z: np.ndarray, tuning: Tuning = (), edit_from: np.ndarray | None = None
               ) -> np.ndarray:
        """z (D,) or (N, D) -> uint8 faces (N, S, S) or (N, S, S, 3); `tuning`: the kept photos
        whose tail offsets the faces are painted with (`kept.Tuning`; none: the model's own).

        `edit_from`: z is an edit (sliders, a direction) of the tuned face at this point. The
        face is then the tuned face there plus what the edit changes in the model's own face:
        a kept tail, tuned at one point, holds on to its photo where the edit moves (a smile
        made it smile 80% of the time against 90% this way, and kept the person 88% against
        93%: README, Your people stay themselves)."""
        if edit_from is not None and tuning and not np.array_equal(np.atleast_2d(z)[0], edit_from):
            base = self._decode_float(np.atleast_2d(edit_from), tuning)
            change = self._decode_float(z, ()) - self._decode_float(np.atleast_2d(edit_from), ())
            return data_mod.to_uint8(base + change)
        return data_mod.to_uint8(self._decode_float(z, tuning))

    def _decode_float(self, z: np.ndarray, tuning: Tuning) -> torch.Tensor:
        z = torch.as_tensor(np.atleast_2d(z), dtype=torch.float32, device=self.device)
        # a photo kept for other weights (a snapshot since, another model) is painted without
        offsets = kept_mod.blend(tuple((k, w) for k, w in tuning if k.model == self.weights()))
        if offsets is None:
            return self._decoder()(z)
        quick = self._decoder()
        start = keeping.tail_start(self.model)
        head = None
        if isinstance(quick, QuickDecoder) and start >= quick.folded:
            head = lambda z: quick.features(z, start)
        return keeping.decode(self.model, z, offsets, head)

    def weights(self) -> str:
        """The fingerprint of the weights a kept photo belongs to, once per model file."""
        return self._per_file("weights", lambda: keeping.fingerprint(self.model))

    def keeper(self) -> "keeping.Keeper":
        """What keeps photos for these weights (a private copy), once per model file."""
        return self._per_file("keeper", lambda: keeping.Keeper(self.model))

    def _decoder(self):
        """On the CPU the quick decoder (`quick_decode`), made once per model file; elsewhere
        the model's own."""
        if self.device.type != "cpu":
            return self.model.decode
        return self._per_file("quick-decoder", lambda: QuickDecoder(self.model))

    # -- directions that leave part of the face still --------------------------------------------
    # training faces whose decoder Jacobians are averaged (more gave the same directions
    # benchmark figures; README, Directions)
    KEEP_FACES = 4
    KEEP_STEP = 0.25  # the finite-difference step along each latent dimension

    @torch.no_grad()
    def region_grams(self, keep: str, between=None) -> tuple[np.ndarray, np.ndarray]:
        """(G_kept, G_rest): D x D, the decoder's squared sensitivity over the kept rows of the
        face and over the rest, in grey levels, averaged over `KEEP_FACES` training faces
        (seeded). For a latent step d, d' G d is the summed squared change of those pixels. The
        Jacobians are finite differences: one batch of D + 1 decodes per face. Cached per part
        and model file. `between()`, if given, is called after each face (the engine serves a
        person's paints there)."""
        return self._per_file(f"grams-{keep}", lambda: self._grams(keep, between))

    def _grams(self, keep: str, between) -> tuple[np.ndarray, np.ndarray]:
        from studio.engine.directions import KEEPS

        (lo, hi), _ = KEEPS[keep]
        dim, size = self.latent_dim, self.config.image_size
        rows = np.zeros(size, dtype=bool)
        rows[int(round(lo * size)):int(round(hi * size))] = True
        mu = self.training_mu()
        rng = np.random.default_rng(0)
        centres = (mu[rng.choice(len(mu), min(self.KEEP_FACES, len(mu)), replace=False)]
                   if len(mu) else np.zeros((1, dim)))
        weights = torch.tensor([0.299, 0.587, 0.114] if self.config.channels == 3 else [1.0],
                               device=self.device).view(1, -1, 1, 1)
        kept = np.zeros((dim, dim))
        rest = np.zeros((dim, dim))
        steps = torch.cat([torch.zeros(1, dim), self.KEEP_STEP * torch.eye(dim)]).to(self.device)
        for c in centres:
            z = torch.as_tensor(c, dtype=torch.float32, device=self.device)[None] + steps
            grey = (self.model.decode(z) * weights).sum(1) * 255.0  # (D + 1, S, S)
            j = ((grey[1:] - grey[:1]) / self.KEEP_STEP).double().cpu().numpy()
            jk, jr = j[:, rows].reshape(dim, -1), j[:, ~rows].reshape(dim, -1)
            kept += jk @ jk.T
            rest += jr @ jr.T
            if between is not None:
                between()
        return kept / len(centres), rest / len(centres)

    def keep_still(self, vector: np.ndarray, keep: str, between=None) -> np.ndarray:
        """A vector that changes the face outside `keep` as `vector` does and the kept part as
        little as it can: the least-squares answer to "the rest changes as before, the kept
        part not at all", (G_kept + G_rest) d = G_rest v, linear in the decoder (its Jacobians
        averaged over training faces). For "smiling" keeping the upper face it cuts the change
        of the eyes and brows by about two thirds while the smile stays
        (`python -m studio.benchmarks.directions`)."""
        v = np.asarray(vector, dtype=np.float64)
        if v.shape != (self.latent_dim,):
            raise StudioError(f"the direction has {v.size} dims, the model {self.latent_dim}")
        kept, rest = self.region_grams(keep, between)
        ridge = 1e-6 * float(np.trace(rest)) / self.latent_dim + 1e-12
        return np.linalg.solve(kept + rest + ridge * np.eye(self.latent_dim), rest @ v)

    def frame(self, path: str | Path, framing: str = "auto") -> Framed:
        return data_mod.load_photo(path, self.config.image_size, self.config.channels, framing,
                                   self.crop)

    @property
    def crop(self):
        """How this model's faces were cut (stored with its training data's description)."""
        from studio.engine.faces import Crop

        return Crop.from_description(self.file.dataset)

    def describe(self, framed: list[tuple[str, Framed]]) -> list[Photo]:
        """Framed photos as the model describes them: mu, sigma, the reconstruction and the KL
        per dimension, in one pass of the encoder and one of the decoder."""
        if not framed:
            return []
        mu, sigma = self.encode_images([f.image for _, f in framed])
        recon = self.decode(mu)
        kl = VAE.kl_per_dim(torch.from_numpy(mu), torch.from_numpy(np.log(sigma ** 2))).numpy()
        return [Photo(str(p), f.image, f.method, f.note, mu[i], sigma[i], recon[i], kl[i])
                for i, (p, f) in enumerate(framed)]

    def encode_photo(self, path: str | Path, framing: str = "auto") -> Photo:
        return self.describe([(str(path), self.frame(path, framing))])[0]

    def reconstruct(self, images: list[np.ndarray]) -> np.ndarray:
        mu, _ = self.encode_images(images)
        return self.decode(mu)

    def manifold_region(self, tail: float = 0.05, kind: str = "plane"):
        """The map and region of a manifold image: for a 2-D model the latent plane itself,
        from the 5% to the 95% quantile of the prior as in Kingma and Welling's figure; for
        more dims the PCA plane through the training faces' mean, over the same quantiles of
        their spread along each axis, or the face atlas over the 2nd to 98th percentile of the
        faces' positions (`kind` "atlas")."""
        if kind == "atlas" or (kind == "default" and self.atlas() is not None):
            atlas = self.map("atlas")
            return (atlas, *atlas.region())
        proj = self.projection()
        mu = self.training_mu()
        if self.latent_dim == 2 or len(mu) < 2:
            sx = sy = 1.0
        else:
            sx, sy = proj.project(mu).std(0)
        return proj, gaussian_extent(float(sx), tail), gaussian_extent(float(sy), tail)

    def manifold(self, n: int, projection: Projection | None = None, x_range=None, y_range=None,
                 anchor: np.ndarray | None = None) -> np.ndarray:
        """An n x n grid of faces decoded across a map region, touching, as one uint8 image."""
        from studio.engine.export import grid

        if projection is None or x_range is None or y_range is None:
            projection, x_range, y_range = self.manifold_region()
        faces = self.decode(manifold_grid(projection, n, x_range, y_range, anchor))
        return grid(list(faces), cols=n, pad=0)
