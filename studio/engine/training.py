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
import logging
import math
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Callable, Iterator

import torch
from torch.nn.parallel import DistributedDataParallel

import studio
from studio.engine.checkpoint import ModelFile
from studio.engine.critic import Critic
from studio.engine.data import augment_batch
from studio.engine.devices import (
    LAYOUT,
    adamw,
    device_label,
    match_layout,
    move_optimizer,
    resolve_device,
    to_cpu,
)
from studio.engine.distributed import SINGLE, EpochSampler, World, all_sum
from studio.engine.errors import StudioError
from studio.engine.feeding import Feeder
from studio.engine.model import VAE, VAEConfig, kl_warmup_weight
from studio.engine.recovery import (  # noqa: F401 (GOOD_EVERY: the trainer's)
    GOOD_EVERY,
    Fault,
    Recovery,
    RunPosition,
)
from studio.engine.train_config import (  # noqa: F401 (what a Trainer takes and yields)
    LR_SCHEDULES,
    Stream,
    TrainConfig,
    TrainingDiverged,
    TrainProgress,
    lr_factor,
    seed_of,
)

log = logging.getLogger(__name__)


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
            torch.manual_seed(seed_of(self.train_config.seed, Stream.WEIGHTS))
            # channels-last: the convolutions' fast layout (oneDNN on the CPU, tensor cores on
            # a GPU)
            self.model = VAE(self.config).to(self.device, memory_format=LAYOUT)
            adversarial = self.train_config.adversarial if not world.distributed else 0.0
            if world.distributed and self.train_config.adversarial:
                log.warning("the adversarial term is for single-process runs: off under torchrun")
            self.critic = (Critic(self.config.channels, adversarial, self.device)
                           if adversarial > 0 else None)
        self.optimizer = adamw(self.model.parameters(), self.train_config.lr,
                               self.train_config.weight_decay, self.device)
        if self.critic is not None:
            self.critic.make_optimizer()
        cuda = self.device.type == "cuda"
        self.amp_dtype = None
        if cuda and self.train_config.amp:
            self.amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self._autocast = (torch.autocast(device_type="cuda", dtype=self.amp_dtype)
                          if self.amp_dtype is not None else nullcontext())
        # the generators of a step's reparameterisation noise and augmentation, seeded afresh at
        # every step (from its own stream)
        self._noise = torch.Generator(device=self.device)
        self._flips = torch.Generator()
        self.step = 0
        self.epoch = 0
        self.batch = 0
        self.history: list[dict] = []
        self.seconds_trained = 0.0
        self.meta: dict = {}
        self._epoch_sums = torch.zeros(3)
        self._epoch_count = 0
        self._sampler = EpochSampler(len(data), world,
                                     lambda epoch: seed_of(self.train_config.seed, Stream.ORDER, epoch))
        self.feeder = Feeder(data, world, self.device, workers, self._sampler)
        self._batch_size = self.train_config.batch_size
        self._stop_requested = False
        self._lr_scale = 1.0  # halved by each rollback; kept in the file, so a resume keeps it
        self.recovery = Recovery(self)
        self._message = ""
        # a test's way to make a step fail: fault_hook(step) gives a Fault, or None for a good step
        self.fault_hook: Callable[[int], Fault | None] | None = None
        # the clock a run's time budget and speed are read from (seconds); a test gives its own
        self.clock = time.perf_counter
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
        match_layout(self.optimizer)
        # the run's --lr (it may be changed on resuming), times the halvings of any rollbacks
        self._lr_scale = float(st.get("lr_scale", 1.0))
        for group in self.optimizer.param_groups:
            group["lr"] = self.train_config.lr * self._lr_scale
        if st.get("scaler"):
            self.scaler.load_state_dict(st["scaler"])
        if self.critic is not None:
            self.critic.restore(st)
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
            **(self.critic.state() if self.critic is not None
               else {"disc": None, "disc_optimizer": None}),
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
        self.feeder.close()

    @property
    def disc(self):
        """The critic's network, or None (no adversarial term)."""
        return self.critic.net if self.critic is not None else None

    def request_stop(self) -> None:
        """Stop after the step in hand (every process agrees on which step that is)."""
        self._stop_requested = True

    def _seed_for(self, stream: Stream) -> int:
        parts = (self.train_config.seed, stream, self.step)
        return seed_of(*parts) if not self.world.distributed else seed_of(*parts, self.world.rank)

    # -- what recovery asks of it (recovery.Recoverable) ----------------------------------------
    def position(self) -> RunPosition:
        """Where the run stands now, copied: what a rollback returns to."""
        return RunPosition(
            step=self.step, epoch=self.epoch, batch=self.batch,
            weights={k: v.detach().clone() for k, v in self.model.state_dict().items()},
            optimizer=copy.deepcopy(self.optimizer.state_dict()),
            epoch_sums=self._epoch_sums.clone(), epoch_count=self._epoch_count)

    def return_to(self, position: RunPosition) -> None:
        """Take the run back to `position` (which is left as it was, to return to again). The
        learning rate stays the one in hand: it is not part of a position."""
        self.model.load_state_dict(position.weights)
        lrs = [group["lr"] for group in self.optimizer.param_groups]
        self.optimizer.load_state_dict(copy.deepcopy(position.optimizer))
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self.step, self.epoch, self.batch = position.step, position.epoch, position.batch
        self._epoch_sums, self._epoch_count = position.epoch_sums.clone(), position.epoch_count

    def halve_lr(self) -> float:
        """Half the learning rate from here on (kept in the file, so a resume keeps it); the
        rate now."""
        for group in self.optimizer.param_groups:
            group["lr"] = group["lr"] * 0.5
        self._lr_scale *= 0.5
        return self.optimizer.param_groups[0]["lr"]

    def resize_batch(self, size: int) -> None:
        """The global batch from here on, at the same place in the epoch."""
        old = self.batch_size
        self._batch_size = size
        self.batch = (self.batch * old) // self.batch_size

    def go_on_on_cpu(self) -> None:
        """Move the run to the CPU: the model, its optimiser, the critic and the data; mixed
        precision off."""
        self.device = torch.device("cpu")
        self.model.to(self.device)
        move_optimizer(self.optimizer, self.device)
        if self.critic is not None:
            self.critic.to(self.device)
        self.feeder.to(self.device)
        self.amp_dtype = None
        self.scaler = torch.amp.GradScaler("cuda", enabled=False)
        self._autocast = nullcontext()
        self._noise = torch.Generator(device=self.device)

    def say(self, message: str) -> None:
        """A remark for the next snapshot, after any made since the last one (several can come
        between two steps: out of memory at 16, then at 8)."""
        log.warning(message)
        self._message = f"{self._message}; {message}" if self._message else message

    # -- the loop --------------------------------------------------------------------------------
    def steps(self) -> Iterator[TrainProgress]:
        """Train, yielding a snapshot after every step, until the epoch target or time budget.

        A step: the next batch, its loss, the backward pass and the update, the step's figures
        summed over the processes, then the critic's step. A step that runs out of memory is
        taken again at a smaller batch; one whose loss is not finite is undone (recovery.py)."""
        sitting = _Sitting(self.clock, self.step)
        # judged at the last snapshot, not afresh: a time budget that runs out between two steps
        # ends the run with one more step, whose snapshot says done, rather than with none
        while not self._finished(sitting):
            bpe = self.batches_per_epoch
            if self.recovery.due():
                self.recovery.keep_good()
            x, n = self._next_batch(sitting)
            kl_w = kl_warmup_weight(self.config.beta, self.step, self.train_config.kl_warmup_steps)
            self._set_lr(sitting, bpe)
            adv = self._adversarial()
            fault = self._fault()
            learned = self._learn(x, n, kl_w, adv, fault, sitting)
            if learned is None:  # out of memory: the step is taken again at the smaller batch
                self._out_of_memory(sitting)
                continue
            stats = self._exchange(learned.head, n, learned.wants_stop, sitting)
            if fault is Fault.NAN or not bool(torch.isfinite(stats[2])):
                self.recovery.roll_back()  # raises TrainingDiverged after MAX_BAD_IN_ROW in a row
                sitting.batches = None
                continue
            self.recovery.step_ok()
            # after the check: a critic is not rolled back. Out of memory in its step, the
            # model's step stands, and the next is smaller
            if adv and n and not self._critic_step(x, learned.fake):
                self._out_of_memory(sitting)
            progress = self._advance(stats, kl_w, bpe, sitting)
            yield progress
            self._message = ""
            if progress.done:
                break
        self._stop_requested = False
        self.seconds_trained += self.clock() - sitting.start

    def _fault(self) -> Fault | None:
        """The failure a test gives this step, if any."""
        fault = self.fault_hook(self.step) if self.fault_hook else None
        if fault is not None and not isinstance(fault, Fault):
            raise TypeError(f"fault_hook gave {fault!r}, not a Fault")
        return fault

    def _adversarial(self) -> bool:
        """Whether this step has the critic's term (once it has started)."""
        return self.critic is not None and self.step >= self.train_config.adversarial_start

    def _next_batch(self, sitting: _Sitting) -> tuple[torch.Tensor, int]:
        """The epoch's next batch for this process, mirrored and jittered as the run asks, and
        how many real images it holds."""
        if sitting.batches is None:
            sitting.batches = self.feeder.batches(self.epoch, self.batch, self.rank_batch)
        x, n = next(sitting.batches)
        return self._augmented(x), n

    def _augmented(self, x: torch.Tensor) -> torch.Tensor:
        """The batch mirrored and jittered as the run asks (from the step's own stream), in the
        trainer's layout."""
        tc = self.train_config
        if tc.flip or tc.jitter > 0:
            self._flips.manual_seed(self._seed_for(Stream.AUGMENT))
            x = augment_batch(x, self._flips, flip=tc.flip, jitter=tc.jitter)
        return x.contiguous(memory_format=LAYOUT)

    def _set_lr(self, sitting: _Sitting, bpe: int) -> None:
        """The step's learning rate: the schedule follows the run towards its first stopping
        point (epochs or time), read from this process's clock, or with several processes from
        rank 0's as the last step's exchange carried it, so that every process takes every step
        with the same rate."""
        tc = self.train_config
        clock = sitting.agreed_elapsed if self.world.distributed else sitting.since_start()
        fraction = self._eta(clock, max(1, self.step - sitting.start_step), bpe)[1]
        lr = tc.lr * self._lr_scale * lr_factor(tc.lr_schedule, fraction, tc.lr_final)
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def _learn(self, x: torch.Tensor, n: int, kl_w: float, adv: bool, fault: Fault | None,
               sitting: _Sitting) -> _Learned | None:
        """The forward pass, the backward pass and the update on one batch; None if it ran out
        of memory (the backward pass needs more than the forward one): nothing was updated."""
        try:
            if fault is Fault.OOM:
                raise torch.OutOfMemoryError("injected by a test")
            terms, objective, logits, fake = self._loss(x, kl_w, adv)
            # what the person sees: the loss terms, summed over the processes with the image
            # count and whether any process wants to stop here. Read after the update has been
            # launched: reading them earlier would leave a GPU idle while the backward pass is
            # being launched (about a fifth of the images per second on an H200 at a batch of 64)
            wants_stop = self._stop_requested or (
                self.world.distributed and self._time_up(sitting.since_start()))
            mse = (x.float() - torch.sigmoid(logits.detach().float())).pow(2).mean()
            head = torch.stack([terms.recon.detach(), terms.kl.detach(), terms.total.detach(),
                                mse]).float() * n
            if fault is Fault.OOM_BACKWARD:
                raise torch.OutOfMemoryError("injected by a test")
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(objective if n else objective * 0.0).backward()
            self.scaler.step(self.optimizer)  # undone by a roll-back if the loss is not finite
            self.scaler.update()
        except torch.OutOfMemoryError:
            return None  # what the step had made is let go here, before the recovery
        return _Learned(head, wants_stop, fake)

    def _loss(self, x: torch.Tensor, kl_w: float, adv: bool):
        """The model's loss on a batch: (its terms, the objective with the critic's term if
        `adv`, the logits, the reconstructions the critic judged or None)."""
        self._noise.manual_seed(self._seed_for(Stream.NOISE))
        self.model.train()
        with self._autocast:
            logits, mu, logvar = self._net(x, self._noise)
        terms = self.model.loss(x, logits, mu, logvar, kl_w)
        if not adv:
            return terms, terms.total, logits, None
        with self._autocast:
            fake = torch.sigmoid(logits.float())
            g_loss = self.critic.fooled(fake)
        weight = self.critic.balance(self.model.decoder[-1].weight, terms.recon, g_loss)
        return terms, terms.total + weight * g_loss, logits, fake

    def _critic_step(self, x: torch.Tensor, fake: torch.Tensor) -> bool:
        """The critic's step on real faces against the reconstructions; False if it ran out of
        memory."""
        try:
            self.critic.step(x, fake.detach(), self._autocast)
        except torch.OutOfMemoryError:
            return False
        return True

    def _out_of_memory(self, sitting: _Sitting) -> None:
        """After running out of memory: a smaller batch or the CPU (recovery.py), the gradients a
        backward pass cut short leaves behind freed (the model's and the critic's), the batches
        made anew for it."""
        self.recovery.out_of_memory()
        self.optimizer.zero_grad(set_to_none=True)
        if self.critic is not None:
            self.critic.optimizer.zero_grad(set_to_none=True)
        sitting.batches = None

    def _exchange(self, head: torch.Tensor, n: int, wants_stop: bool, sitting: _Sitting
                  ) -> torch.Tensor:
        """The step's figures (the loss terms times the image count, then the count, whether
        a process wants to stop, rank 0's clock), summed over the processes: one small exchange
        per step."""
        own_clock = sitting.since_start() if self.world.main else 0.0
        tail = torch.tensor([float(n), float(wants_stop), own_clock], dtype=torch.float64)
        if self.world.distributed:
            return all_sum(self.world, torch.cat([head.double(), tail.to(head.device)])).cpu()
        return torch.cat([head.cpu().double(), tail])

    def _advance(self, stats: torch.Tensor, kl_w: float, bpe: int, sitting: _Sitting
                 ) -> TrainProgress:
        """The step counted (its figures into the epoch's, the epoch closed after its last
        batch), and its snapshot."""
        count = int(stats[4])
        self._epoch_sums += stats[:3]
        self._epoch_count += count
        sitting.agreed_stop = bool(stats[5] > 0)
        sitting.agreed_elapsed = float(stats[6])
        self.step += 1
        self.batch += 1
        sitting.tick(count)
        if self.batch >= bpe:
            self._end_epoch(sitting.elapsed)
            sitting.batches = None
        reached = self._target_reached(sitting.elapsed)
        eta, frac = self._eta(sitting.elapsed, self.step - sitting.start_step, bpe)
        r, k, t, m = (stats[:4] / max(1, count)).tolist()
        return TrainProgress(
            step=self.step, epoch=self.epoch, batch=self.batch, batches_per_epoch=bpe,
            epochs=self.train_config.epochs, recon=r, kl=k, total=t, kl_weight=kl_w,
            images_per_s=sitting.rate, psnr_db=10 * math.log10(1 / max(m, 1e-10)),
            elapsed_s=sitting.elapsed, eta_s=0.0 if reached else eta,
            fraction=1.0 if reached else frac, done=reached or sitting.agreed_stop,
            device=device_label(self.device), message=self._message)

    def _time_up(self, elapsed: float) -> bool:
        return self.train_config.max_seconds is not None and elapsed >= self.train_config.max_seconds

    def _target_reached(self, elapsed: float) -> bool:
        tc = self.train_config
        if tc.epochs is not None and self.epoch >= tc.epochs:
            return True
        # several processes stop on time only when they agree (a step's exchange carries it)
        return not self.world.distributed and self._time_up(elapsed)

    def _finished(self, sitting: _Sitting) -> bool:
        return self._target_reached(sitting.elapsed) or sitting.agreed_stop

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
            g = torch.Generator().manual_seed(seed_of(self.train_config.seed, Stream.MAP_SAMPLE))
            index = torch.randperm(n, generator=g)[:cap].sort().values
        else:
            index = torch.arange(n)
        self.model.eval()
        out = []
        if self.feeder.images is not None:
            for chunk in index.split(512):
                x = self.feeder.images[chunk.to(self.device)].float() / 255.0
                out.append(self.model.encode(x)[0].float().cpu())
        else:
            for imgs, ok in self.feeder.read([c.tolist() for c in index.split(512)]):
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
                         train_state=to_cpu(self.train_state()), meta=meta)



class _Sitting:
    """One call of Trainer.steps(): its clock, where it began, its speed, the batches of the
    epoch in hand, and what the processes agreed at its last step."""

    def __init__(self, clock: Callable[[], float], step: int):
        self.clock = clock
        self.start = clock()
        self.start_step = step
        self.last = self.start       # the clock at the last snapshot
        self.elapsed = 0.0           # ... since the start
        self.rate: float | None = None  # images per second, smoothed
        self.batches: Iterator[tuple[torch.Tensor, int]] | None = None  # remade when None
        self.agreed_stop = False
        self.agreed_elapsed = 0.0    # rank 0's clock, as the last step's exchange carried it

    def since_start(self) -> float:
        """The clock read now, from the sitting's start."""
        return self.clock() - self.start

    def tick(self, images: int) -> None:
        """A step of `images` images is done: the clock read, the speed updated."""
        now = self.clock()
        inst = images / max(now - self.last, 1e-9)
        self.last = now
        self.rate = inst if self.rate is None else 0.9 * self.rate + 0.1 * inst
        self.elapsed = now - self.start


@dataclass(frozen=True)
class _Learned:
    """What a step's forward and backward passes leave for the rest of it."""

    head: torch.Tensor          # the step's loss terms times its image count
    wants_stop: bool            # whether this process asks to stop here
    fake: torch.Tensor | None   # the reconstructions the critic judged (its term on)
