"""Training as a generator of immutable progress snapshots.

    trainer = Trainer(faces, VAEConfig(latent_dim=16), TrainConfig(epochs=50))
    for progress in trainer.steps():      # one optimiser step per snapshot
        ...                               # stop iterating to pause or stop; call again to resume
    save_model("face.pt", trainer.model_file("face"))

Each `yield` is a point where the caller may pause (stop pulling) or stop (stop pulling and save).
Everything random is drawn from generators seeded by (seed, epoch) for the data order and by
(seed, step) for flips and the reparameterisation noise, so a run saved after any step and resumed
from the file ends with the same weights as a run never interrupted (exactly, on the CPU).
"""

from __future__ import annotations

import copy
import hashlib
import logging
import math
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Iterator

import torch
from torch.nn import functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

import studio
from studio.engine.checkpoint import ModelFile
from studio.engine.data import FaceSet, augment_batch
from studio.engine.distributed import SINGLE, EpochSampler, World, all_sum
from studio.engine.errors import StudioError
from studio.engine.model import VAE, Discriminator, VAEConfig, kl_warmup_weight
from studio.engine.requests import DEFAULT_EPOCHS, DEVICES

log = logging.getLogger(__name__)

LR_SCHEDULES = ("cosine", "constant")


def lr_factor(schedule: str, fraction: float, final: float) -> float:
    """The learning rate's multiplier at a fraction of the run: cosine from 1 down to `final`."""
    if schedule == "constant":
        return 1.0
    f = min(1.0, max(0.0, fraction))
    return final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * f))


def resolve_device(name: str = "auto") -> torch.device:
    """`auto` picks cuda, then mps, then cpu; a named device that is not there is an error."""
    if name not in DEVICES and not name.startswith("cuda:"):
        raise StudioError(f"device {name}: choose one of {', '.join(DEVICES)}")
    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps and mps.is_available())
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if has_mps else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise StudioError(f"device {name}: no CUDA GPU is available on this machine")
    if name == "mps" and not has_mps:
        raise StudioError("device mps: Apple's Metal (MPS) is not available on this machine")
    return torch.device(name)


def device_label(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return device.type


@dataclass(frozen=True)
class TrainConfig:
    """How to train. epochs counts the whole run (a resumed run goes on to the same epoch);
    max_seconds is a budget for one sitting. Either may be None; training stops at the first."""

    epochs: int | None = DEFAULT_EPOCHS
    max_seconds: float | None = None
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 0
    device: str = "auto"
    kl_warmup_steps: int = 200
    flip: bool = True      # mirror half of each batch
    jitter: float = 1.0    # small shifts, scales, turns and brightness changes (0 = none)
    weight_decay: float = 0.0
    amp: bool = True  # mixed precision on cuda (bfloat16 where supported, else float16)
    max_map_faces: int = 20_000  # training mu kept in the model file for the map
    lr_schedule: str = "cosine"  # "cosine": decays to lr_final x lr by the end; or "constant"
    lr_final: float = 0.05
    # a small patch discriminator's term (the VAE/GAN idea of Larsen et al. 2016) with VQGAN's
    # adaptive weight (the ratio of the two terms' gradient norms at the decoder's last layer)
    # times `adversarial`; 0 turns it off. It starts after `adversarial_start` steps, once the
    # reconstructions are faces. Single-process runs only (off under torchrun).
    adversarial: float = 0.1
    adversarial_start: int = 1500

    def __post_init__(self):
        if self.epochs is not None and self.epochs < 1:
            raise StudioError(f"epochs must be at least 1, not {self.epochs}")
        if self.max_seconds is not None and self.max_seconds <= 0:
            raise StudioError(f"max_seconds must be positive, not {self.max_seconds}")
        if self.batch_size < 1:
            raise StudioError(f"batch_size must be at least 1, not {self.batch_size}")
        if not self.lr > 0:
            raise StudioError(f"lr must be positive, not {self.lr}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise StudioError(f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}, "
                              f"not {self.lr_schedule}")
        if not 0 < self.lr_final <= 1:
            raise StudioError(f"the final learning rate must be a fraction in (0, 1], not "
                              f"{self.lr_final}")
        if not 0 <= self.adversarial <= 10:
            raise StudioError(f"adversarial must be between 0 and 10, not {self.adversarial}")
        if self.adversarial_start < 0:
            raise StudioError(f"adversarial_start must be 0 or more, not "
                              f"{self.adversarial_start}")


@dataclass(frozen=True)
class TrainProgress:
    """One snapshot, yielded after every optimiser step. Losses are per image, in nats."""

    step: int
    epoch: int                # completed epochs
    batch: int                # batches done in the current epoch
    batches_per_epoch: int
    epochs: int | None        # the target, if any
    recon: float
    kl: float
    total: float
    kl_weight: float
    images_per_s: float
    elapsed_s: float          # this sitting
    eta_s: float | None       # to the first stopping point, None if open-ended
    fraction: float           # 0..1 towards the first stopping point
    done: bool
    device: str
    message: str = ""         # something the person should know (a rollback, a smaller batch)
    psnr_db: float = 0.0      # the batch's reconstructions (from sampled z) against it, in dB


class TrainingDiverged(StudioError):
    """The loss was not finite several times in a row (rolling back and halving the learning
    rate did not get past it); the trainer holds the last good weights."""


LAYOUT = torch.channels_last  # how the trainer lays out images and convolution weights
GOOD_EVERY = 25     # steps between copies of the last good state (what a NaN rolls back to)
MAX_BAD_IN_ROW = 3  # non-finite losses in a row before training stops


def _seed(*parts: int) -> int:
    h = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(h, "little") & ((1 << 63) - 1)


class Trainer:
    """Trains a VAE on a FaceSet (held in memory) or a FolderFaces (streamed through DataLoader
    workers); resumable from a ModelFile that holds a train_state.

    In a world of several processes (torchrun; see distributed.py) each process trains its share
    of every batch under DistributedDataParallel: batch_size is the global batch, split evenly,
    so a run means the same on one process or eight, and a file saved by one resumes on another.
    """

    def __init__(self, data, config: VAEConfig | None = None,
                 train: TrainConfig | None = None, resume: ModelFile | None = None,
                 name: str = "model", world: World = SINGLE, workers: int = 0):
        if len(data) == 0:
            raise StudioError("no training images")
        self.data = data
        self.train_config = train or TrainConfig()
        self.device = resolve_device(self.train_config.device)
        self.name = name
        self.world = world
        self.workers = workers
        if resume is not None:
            if not resume.train_state:
                raise StudioError(f"{resume.meta.get('path', 'model')}: holds no training state "
                                  "to resume from")
            config = resume.config
        self.config = config or VAEConfig()
        shape = tuple(data.sample_shape)
        want = (self.config.channels, self.config.image_size, self.config.image_size)
        if shape != want:
            raise StudioError(f"data is {shape[0]} x {shape[1]} x {shape[2]}, the model expects "
                              f"{want[0]} x {want[1]} x {want[2]}")
        with torch.random.fork_rng(devices=[]):  # seeded weights, global RNG left alone
            torch.manual_seed(_seed(self.train_config.seed, -1))
            # channels-last: the convolutions' fast layout (oneDNN on the CPU, tensor cores on
            # a GPU); 17-25% more images per second than the default layout on this CPU
            self.model = VAE(self.config).to(self.device, memory_format=LAYOUT)
            self.adversarial = self.train_config.adversarial if not world.distributed else 0.0
            if world.distributed and self.train_config.adversarial:
                log.warning("the adversarial term is for single-process runs: off under torchrun")
            self.disc = None
            if self.adversarial > 0:
                self.disc = Discriminator(self.config.channels).to(self.device,
                                                                   memory_format=LAYOUT)
        self.optimizer = _adamw(self.model.parameters(), self.train_config, self.device)
        self.disc_optimizer = (torch.optim.Adam(self.disc.parameters(), lr=2e-4, betas=(0.5, 0.9))
                               if self.disc is not None else None)
        cuda = self.device.type == "cuda"
        self.amp_dtype = None
        if cuda and self.train_config.amp:
            self.amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.step = 0
        self.epoch = 0
        self.batch = 0
        self.history: list[dict] = []
        self.seconds_trained = 0.0
        self.meta: dict = {}
        self._epoch_sums = torch.zeros(3)
        self._epoch_count = 0
        # in memory: one uint8 tensor on the device; streamed: read by DataLoader workers
        self._images = data.images.to(self.device) if isinstance(data, FaceSet) else None
        self._batches_wanted = _Batches()
        self._loader = None  # made on first use; its workers live as long as the trainer
        self._unreadable: set[int] = set()
        self._sampler = EpochSampler(len(data), world,
                                     lambda epoch: _seed(self.train_config.seed, 0, epoch))
        self._batch_size = self.train_config.batch_size
        self._stop_requested = False
        self._agreed_stop = False
        self._good: dict | None = None
        self._bad_in_row = 0
        self._lr_scale = 1.0  # halved by each rollback; kept in the file, so a resume keeps it
        self._bad_step = -1  # the last step whose loss was not finite
        self._message = ""
        # a test hook: fault_hook(step) returns None, "nan" (the loss becomes NaN), "oom" (out of
        # memory in the forward pass) or "oom-backward" (in the backward pass or the update)
        self.fault_hook = None
        if resume is not None:
            self._restore(resume)
        self._net = self.model
        if world.distributed:  # after restoring: DDP starts every process from rank 0's weights
            ids = [self.device.index] if self.device.type == "cuda" else None
            self._net = DistributedDataParallel(self.model, device_ids=ids)

    # -- state ---------------------------------------------------------------------------------
    def _restore(self, mf: ModelFile) -> None:
        st = mf.train_state
        self.model.load_state_dict(mf.state_dict)
        self.optimizer.load_state_dict(st["optimizer"])
        _match_layout(self.optimizer)
        # the run's --lr (it may be changed on resuming), times the halvings of any rollbacks
        self._lr_scale = float(st.get("lr_scale", 1.0))
        for group in self.optimizer.param_groups:
            group["lr"] = self.train_config.lr * self._lr_scale
        if st.get("scaler"):
            self.scaler.load_state_dict(st["scaler"])
        if self.disc is not None and st.get("disc"):
            self.disc.load_state_dict(st["disc"])
            self.disc_optimizer.load_state_dict(st["disc_optimizer"])
            _match_layout(self.disc_optimizer)
        self.step, self.epoch, self.batch = int(st["step"]), int(st["epoch"]), int(st["batch"])
        self._epoch_sums = st.get("epoch_sums", torch.zeros(3)).clone()
        self._epoch_count = int(st.get("epoch_count", 0))
        self.history = [dict(h) for h in mf.history]
        self.seconds_trained = float(mf.meta.get("seconds_trained", 0.0))
        self.meta = {k: v for k, v in mf.meta.items() if k != "path"}
        if st.get("images") != len(self.data):
            log.warning("resuming on %d images; the saved run had %s", len(self.data), st.get("images"))

    def train_state(self) -> dict:
        return {
            "step": self.step, "epoch": self.epoch, "batch": self.batch,
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else None,
            "epoch_sums": self._epoch_sums.clone(), "epoch_count": self._epoch_count,
            "images": len(self.data), "lr_scale": self._lr_scale,
            "train_config": asdict(self.train_config),
            "disc": self.disc.state_dict() if self.disc is not None else None,
            "disc_optimizer": (self.disc_optimizer.state_dict()
                               if self.disc is not None else None),
        }

    @property
    def batch_size(self) -> int:
        """The global batch (all processes together)."""
        return min(self._batch_size, len(self.data))

    @property
    def rank_batch(self) -> int:
        """This process's share of the batch."""
        return math.ceil(self.batch_size / self.world.world)

    @property
    def batches_per_epoch(self) -> int:
        return math.ceil(self._sampler.num_samples / self.rank_batch)

    def close(self) -> None:
        """Let go of DistributedDataParallel and the DataLoader's workers now, while the process
        group still exists (torn down after it, DDP's reducer aborts the process)."""
        self._net = self.model
        self._loader = None

    def request_stop(self) -> None:
        """Stop after the step in hand (every process agrees on which step that is)."""
        self._stop_requested = True

    def _seed_for(self, kind: int) -> int:
        parts = (self.train_config.seed, kind, self.step)
        return _seed(*parts) if not self.world.distributed else _seed(*parts, self.world.rank)

    def _batches(self) -> Iterator[tuple[torch.Tensor, int]]:
        """The rest of this epoch's batches for this process, from batch self.batch on:
        (float images on the device, how many are real images)."""
        self._sampler.set_epoch(self.epoch)
        chunks = self._sampler.order().split(self.rank_batch)[self.batch:]
        if self._images is not None:
            for c in chunks:
                yield self._images[c.to(self.device)].float().div_(255.0), len(c)
            return
        cuda = self.device.type == "cuda"
        for c, (imgs, ok) in zip(chunks, self._read([c.tolist() for c in chunks])):
            if not bool(ok.all()):
                self._unreadable.update(c[~ok].tolist())
                self.data.description["skipped"] = len(self._unreadable)
                imgs = imgs[ok]
            n = len(imgs)
            if n == 0:  # nothing readable in this batch: a step that changes nothing
                imgs = torch.zeros((1, *self.data.sample_shape), dtype=torch.uint8)
            yield imgs.to(self.device, non_blocking=cuda).float().div_(255.0), n

    def _read(self, batches: list[list[int]]):
        """Read these batches of a streamed folder through DataLoader workers. On one process
        the workers are forked for each pass (cheap). Under torchrun they are spawned, not forked
        (a fork of a process whose gloo threads hold a lock can hang), and, as spawning costs an
        interpreter and torch, one loader with persistent workers serves the whole run, the
        batches it reads set per pass."""
        pin = self.device.type == "cuda"
        if not (self.world.distributed and self.workers > 0):
            return iter(DataLoader(self.data, batch_sampler=batches, num_workers=self.workers,
                                   pin_memory=pin))
        self._batches_wanted.batches = batches
        if self._loader is None:
            self._loader = DataLoader(self.data, batch_sampler=self._batches_wanted,
                                      num_workers=self.workers, pin_memory=pin,
                                      persistent_workers=True, multiprocessing_context="spawn")
        return iter(self._loader)

    # -- the loop --------------------------------------------------------------------------------
    def steps(self) -> Iterator[TrainProgress]:
        """Train, yielding a snapshot after every step, until the epoch target or time budget."""
        tc = self.train_config
        start = time.perf_counter()
        start_step = self.step
        eps_gen = torch.Generator(device=self.device)
        aug_gen = torch.Generator()
        autocast = (torch.autocast(device_type="cuda", dtype=self.amp_dtype)
                    if self.amp_dtype is not None else nullcontext())
        batches = None  # this epoch's batches from self.batch on; remade after a rollback
        rate = None  # images per second, smoothed
        last = start
        self._agreed_stop = False
        elapsed = 0.0
        # the clock the schedule follows: this process's own, or with several processes rank 0's,
        # carried by the last step's exchange, so that every process takes every step with the
        # same learning rate
        self._agreed_elapsed = 0.0
        # judged at the last snapshot, not afresh: a time budget that runs out between two steps
        # ends the run with one more step, whose snapshot says done, rather than with none
        while not self._finished(elapsed):
            bpe = self.batches_per_epoch
            if self._good is None or (self.step % GOOD_EVERY == 0 and self._good["step"] != self.step):
                self._keep_good()
            if batches is None:
                batches = self._batches()
            x, n = next(batches)
            if tc.flip or tc.jitter > 0:
                aug_gen.manual_seed(self._seed_for(1))
                x = augment_batch(x, aug_gen, flip=tc.flip, jitter=tc.jitter)
            x = x.contiguous(memory_format=LAYOUT)
            eps_gen.manual_seed(self._seed_for(2))
            kl_w = kl_warmup_weight(self.config.beta, self.step, tc.kl_warmup_steps)
            # the schedule follows the run towards its first stopping point (epochs or time)
            clock = (self._agreed_elapsed if self.world.distributed
                     else time.perf_counter() - start)
            fraction = self._eta(clock, max(1, self.step - start_step), bpe)[1]
            lr = tc.lr * self._lr_scale * lr_factor(tc.lr_schedule, fraction, tc.lr_final)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            adv = self.disc is not None and self.step >= tc.adversarial_start
            self.model.train()
            fault = self.fault_hook(self.step) if self.fault_hook else None
            try:
                if fault == "oom":
                    raise torch.OutOfMemoryError("injected by a test")
                with autocast:
                    logits, mu, logvar = self._net(x, eps_gen)
                terms = self.model.loss(x, logits, mu, logvar, kl_w)
                objective = terms.total
                if adv:
                    with autocast:
                        fake = torch.sigmoid(logits.float())
                        g_loss = F.softplus(-self.disc(fake).float()).mean()
                    objective = objective + self._adaptive_weight(terms.recon, g_loss) * g_loss
            except torch.OutOfMemoryError:
                logits = mu = logvar = terms = objective = fake = g_loss = None
                autocast, eps_gen, batches = self._recover_from_oom(autocast)
                continue
            # what the person sees: the loss terms, summed over the processes with the image
            # count and whether any process wants to stop here. Read after the update has been
            # launched: reading them earlier would leave a GPU idle while the backward pass is
            # being launched (about a fifth of the images per second on an H200 at a batch of 64)
            wants_stop = self._stop_requested or (
                self.world.distributed and self._time_up(time.perf_counter() - start))
            mse = (x.float() - torch.sigmoid(logits.detach().float())).pow(2).mean()
            head = torch.stack([terms.recon.detach(), terms.kl.detach(), terms.total.detach(),
                                mse]).float() * n
            try:  # the backward pass needs more memory than the forward one
                if fault == "oom-backward":
                    raise torch.OutOfMemoryError("injected by a test")
                self.optimizer.zero_grad(set_to_none=True)
                self.scaler.scale(objective if n else objective * 0.0).backward()
                self.scaler.step(self.optimizer)  # undone by the roll-back below if not finite
                self.scaler.update()
            except torch.OutOfMemoryError:  # the step is taken again at the smaller batch
                logits = mu = logvar = terms = objective = fake = g_loss = head = None
                autocast, eps_gen, batches = self._recover_from_oom(autocast)
                continue
            own_clock = time.perf_counter() - start if self.world.main else 0.0
            tail = torch.tensor([float(n), float(wants_stop), own_clock], dtype=torch.float64)
            if self.world.distributed:  # one small exchange per step
                stats = all_sum(self.world, torch.cat([head.double(), tail.to(head.device)])).cpu()
            else:
                stats = torch.cat([head.cpu().double(), tail])
            if fault == "nan" or not bool(torch.isfinite(stats[2])):
                self._roll_back()  # raises TrainingDiverged after MAX_BAD_IN_ROW in a row
                batches = None
                continue
            if self.step > self._bad_step:  # past the step that failed: the trouble is over
                self._bad_in_row = 0
            if adv and n:  # after the check: a discriminator is not rolled back
                try:
                    self._train_disc(x, fake.detach(), autocast)
                except torch.OutOfMemoryError:  # the model's step stands; smaller from here
                    fake = None
                    autocast, eps_gen, batches = self._recover_from_oom(autocast)
            count = int(stats[4])
            self._epoch_sums += stats[:3]
            self._epoch_count += count
            self._agreed_stop = bool(stats[5] > 0)
            self._agreed_elapsed = float(stats[6])
            self.step += 1
            self.batch += 1
            now = time.perf_counter()
            dt = max(now - last, 1e-9)
            last = now
            inst = count / dt
            rate = inst if rate is None else 0.9 * rate + 0.1 * inst
            if self.batch >= bpe:
                self._end_epoch(now - start)
                batches = None
            elapsed = now - start
            reached = self._target_reached(elapsed)
            done = reached or self._agreed_stop
            eta, frac = self._eta(elapsed, self.step - start_step, bpe)
            r, k, t, m = (stats[:4] / max(1, count)).tolist()
            yield TrainProgress(
                step=self.step, epoch=self.epoch, batch=self.batch, batches_per_epoch=bpe,
                epochs=tc.epochs, recon=r, kl=k, total=t, kl_weight=kl_w, images_per_s=rate,
                psnr_db=10 * math.log10(1 / max(m, 1e-10)),
                elapsed_s=elapsed, eta_s=0.0 if reached else eta,
                fraction=1.0 if reached else frac,
                done=done, device=device_label(self.device), message=self._message)
            self._message = ""
            if done:
                break
        self._stop_requested = False
        self.seconds_trained += time.perf_counter() - start

    def _adaptive_weight(self, recon: torch.Tensor, g_loss: torch.Tensor) -> torch.Tensor:
        """VQGAN's balance: the adversarial term's weight is the ratio of the reconstruction's
        gradient norm to its own at the decoder's last layer, times `adversarial`."""
        last = self.model.decoder[-1].weight
        g_rec = torch.autograd.grad(recon, last, retain_graph=True)[0]
        g_adv = torch.autograd.grad(g_loss, last, retain_graph=True)[0]
        w = g_rec.float().norm() / (g_adv.float().norm() + 1e-4)
        return w.clamp(0.0, 1e4).detach() * self.adversarial

    def _train_disc(self, real: torch.Tensor, fake: torch.Tensor, autocast) -> None:
        """One step of the discriminator: real faces against the reconstructions."""
        self.disc.train()
        with autocast:
            loss = (F.softplus(-self.disc(real).float()).mean()
                    + F.softplus(self.disc(fake).float()).mean())
        self.disc_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.disc_optimizer.step()

    # -- faults ----------------------------------------------------------------------------------
    def _keep_good(self) -> None:
        """Remember the state to roll back to if the loss stops being finite."""
        self._good = {
            "step": self.step, "epoch": self.epoch, "batch": self.batch,
            "model": {k: v.detach().clone() for k, v in self.model.state_dict().items()},
            "optimizer": copy.deepcopy(self.optimizer.state_dict()),
            "epoch_sums": self._epoch_sums.clone(), "epoch_count": self._epoch_count,
        }

    def _roll_back(self) -> None:
        bad_step = self._bad_step = self.step
        self._bad_in_row += 1
        g = self._good
        self.model.load_state_dict(g["model"])
        lrs = [group["lr"] for group in self.optimizer.param_groups]
        self.optimizer.load_state_dict(copy.deepcopy(g["optimizer"]))
        self.step, self.epoch, self.batch = g["step"], g["epoch"], g["batch"]
        self._epoch_sums, self._epoch_count = g["epoch_sums"].clone(), g["epoch_count"]
        if self._bad_in_row >= MAX_BAD_IN_ROW:
            raise TrainingDiverged(
                f"the loss was not finite {self._bad_in_row} times in a row (last at step "
                f"{bad_step}); stopped with the last good weights, from step {self.step}")
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr * 0.5
        self._lr_scale *= 0.5
        self._say(f"the loss was not finite at step {bad_step}: rolled back to step "
                  f"{self.step} and halved the learning rate to "
                  f"{self.optimizer.param_groups[0]['lr']:.2e}")

    def _say(self, message: str) -> None:
        """A remark for the next snapshot, after any made since the last one (several can come
        between two steps: out of memory at 16, then at 8)."""
        log.warning(message)
        self._message = f"{self._message}; {message}" if self._message else message

    def _recover_from_oom(self, autocast):
        """After running out of memory in a step: a smaller batch or the CPU (_out_of_memory),
        and what the loop needs anew for it: (autocast, eps generator, batches)."""
        self._out_of_memory()
        # a backward pass cut short leaves gradients behind: freed, for the model and the critic
        for opt in (self.optimizer, self.disc_optimizer):
            if opt is not None:
                opt.zero_grad(set_to_none=True)
        autocast = nullcontext() if self.device.type == "cpu" else autocast
        return autocast, torch.Generator(device=self.device), None

    def _out_of_memory(self) -> None:
        """Out of (GPU) memory: half the batch; at a batch of 8 or less, go on on the CPU."""
        old = self.batch_size
        if self.world.distributed:  # the processes would no longer agree on the batch
            raise StudioError(f"out of GPU memory on process {self.world.rank} at a batch of "
                              f"{old} ({self.rank_batch} per process): start again with a "
                              "smaller --batch-size")
        if self.device.type != "cpu" and old <= 8:
            self.device = torch.device("cpu")
            for net, opt in ((self.model, self.optimizer), (self.disc, self.disc_optimizer)):
                if net is None:
                    continue
                net.to(self.device)
                for state in opt.state.values():
                    for k, v in state.items():
                        if isinstance(v, torch.Tensor):
                            state[k] = v.to(self.device)
            if self._images is not None:
                self._images = self._images.to(self.device)
            self.amp_dtype = None
            self.scaler = torch.amp.GradScaler("cuda", enabled=False)
            self._say("out of GPU memory even at a batch of 8: going on on the CPU")
        else:
            self._batch_size = max(1, old // 2)
            self.batch = (self.batch * old) // self.batch_size  # the same place in the epoch
            self._say(f"out of memory at a batch of {old}: going on with {self.batch_size}")
        if self.device.type == "cuda":
            torch.cuda.empty_cache()

    def _time_up(self, elapsed: float) -> bool:
        return self.train_config.max_seconds is not None and elapsed >= self.train_config.max_seconds

    def _target_reached(self, elapsed: float) -> bool:
        tc = self.train_config
        if tc.epochs is not None and self.epoch >= tc.epochs:
            return True
        # several processes stop on time only when they agree (a step's exchange carries it)
        return not self.world.distributed and self._time_up(elapsed)

    def _finished(self, elapsed: float) -> bool:
        return self._target_reached(elapsed) or self._agreed_stop

    def _eta(self, elapsed: float, steps_done: int, bpe: int) -> tuple[float | None, float]:
        tc = self.train_config
        etas, fracs = [], []
        if tc.epochs is not None and steps_done > 0:
            total = tc.epochs * bpe
            left = max(0, total - (self.epoch * bpe + self.batch))
            etas.append(left * elapsed / steps_done)
            fracs.append(1 - left / total)
        if tc.max_seconds is not None:
            etas.append(max(0.0, tc.max_seconds - elapsed))
            fracs.append(min(1.0, elapsed / tc.max_seconds))
        if not etas:
            return None, 0.0
        i = min(range(len(etas)), key=lambda j: etas[j])
        return etas[i], fracs[i]

    def _end_epoch(self, elapsed: float) -> None:
        means = (self._epoch_sums / max(1, self._epoch_count)).tolist()
        self.history.append({"step": self.step, "epoch": self.epoch + 1, "recon": means[0],
                             "kl": means[1], "total": means[2],
                             "seconds": self.seconds_trained + elapsed})
        self._epoch_sums = torch.zeros(3)
        self._epoch_count = 0
        self.epoch += 1
        self.batch = 0

    # -- results -----------------------------------------------------------------------------
    @torch.no_grad()
    def training_mu(self) -> torch.Tensor:
        """mu of the training faces (a fixed-seed sample of at most max_map_faces), unflipped."""
        n = len(self.data)
        cap = self.train_config.max_map_faces
        if n > cap:
            g = torch.Generator().manual_seed(_seed(self.train_config.seed, 3))
            index = torch.randperm(n, generator=g)[:cap].sort().values
        else:
            index = torch.arange(n)
        self.model.eval()
        out = []
        if self._images is not None:
            for chunk in index.split(512):
                x = self._images[chunk.to(self.device)].float() / 255.0
                out.append(self.model.encode(x)[0].float().cpu())
        else:
            for imgs, ok in self._read([c.tolist() for c in index.split(512)]):
                if bool(ok.any()):
                    x = imgs[ok].to(self.device).float() / 255.0
                    out.append(self.model.encode(x)[0].float().cpu())
        if not out:
            return torch.zeros(0, self.config.latent_dim)
        return torch.cat(out)

    def snapshot(self) -> ModelFile:
        """A light copy for showing progress: the weights and the training mu, without the
        optimiser state and history a saved file carries. Marked meta["snapshot"]."""
        state = {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}
        return ModelFile(config=self.config, state_dict=state, dataset=dict(self.data.description),
                         train_mu=self.training_mu(),
                         meta={"name": self.name, "snapshot": True, "steps": self.step})

    def model_file(self, name: str | None = None) -> ModelFile:
        """A snapshot of the run for saving: weights, history, data description, training mu,
        and the state to resume from."""
        meta = dict(self.meta)
        meta.update({
            "name": name or self.name,
            "saved": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "studio_version": studio.__version__,
            "device": device_label(self.device),
            "seconds_trained": round(self.seconds_trained, 3),
            "seed": self.train_config.seed,
            "steps": self.step, "epochs": self.epoch,
        })
        state = {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}
        return ModelFile(config=self.config, state_dict=state, history=tuple(self.history),
                         dataset=dict(self.data.description), train_mu=self.training_mu(),
                         train_state=_to_cpu(self.train_state()), meta=meta)


def _adamw(params, tc: "TrainConfig", device: torch.device) -> torch.optim.AdamW:
    """AdamW, fused into one kernel where this torch has one for the device (the per-parameter
    loop it replaces launches about ten small operations per weight tensor)."""
    params = list(params)
    kw = dict(lr=tc.lr, weight_decay=tc.weight_decay)
    if device.type in ("cpu", "cuda"):
        try:
            return torch.optim.AdamW(params, fused=True, **kw)
        except (RuntimeError, TypeError, ValueError):  # an older torch, or no fused kernel here
            pass
    return torch.optim.AdamW(params, **kw)


def _match_layout(optimizer: torch.optim.Optimizer) -> None:
    """Optimiser state read from a file comes in the default layout: give each moment the
    layout of its weight, so that the update runs in one layout throughout."""
    for group in optimizer.param_groups:
        for p in group["params"]:
            state = optimizer.state.get(p, {})
            for k, v in state.items():
                if isinstance(v, torch.Tensor) and v.shape == p.shape and v.stride() != p.stride():
                    state[k] = torch.empty_like(p, dtype=v.dtype).copy_(v)


def _to_cpu(obj):
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


class _Batches:
    """A batch sampler whose batches are set before each pass (see Trainer._read)."""

    def __init__(self):
        self.batches: list[list[int]] = []

    def __iter__(self):
        return iter(list(self.batches))

    def __len__(self) -> int:
        return len(self.batches)
