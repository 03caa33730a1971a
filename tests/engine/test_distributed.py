"""Two CPU processes under torchrun (gloo), against one process with the same global batch."""

import subprocess
import sys

import pytest
import torch
from PIL import Image

from studio.engine.checkpoint import load_model_file
from studio.engine.distributed import SINGLE, EpochSampler, World, world_from_env
from studio.engine.inference import FaceModel
from tests.conftest import make_faces

ARGS = ["--image-size", "16", "--latent-dim", "3", "--batch-size", "16", "--device", "cpu",
        "--seed", "1", "--quiet"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("ddp") / "faces"
    d.mkdir()
    for i, im in enumerate(make_faces(64, size=20, seed=4).images):
        Image.fromarray(im[0].numpy()).save(d / f"f{i:02d}.png")
    return d


def _train(folder, out, procs, *extra):
    if procs == 1:
        cmd = [sys.executable, "-m", "studio"]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc_per_node={procs}", "-m", "studio"]
    r = subprocess.run(cmd + ["train", str(folder), "--out", str(out), *ARGS, *extra],
                       capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-3000:]
    return r


def test_two_processes_agree_save_once_and_match_one_process(folder, tmp_path):
    two, one = tmp_path / "two.pt", tmp_path / "one.pt"
    r = _train(folder, two, 2, "--epochs", "8")
    # every rank hashed its weights and rank 0 compared them (a mismatch fails the run)
    assert "weights identical on all 2 processes" in r.stderr
    assert r.stdout.count("saved ") == 1  # one process wrote and reported
    assert sorted(p.name for p in tmp_path.iterdir()) == ["two.pt"]  # no temp files left
    _train(folder, one, 1, "--epochs", "8")
    m2, m1 = load_model_file(two), load_model_file(one)
    assert m2.meta["epochs"] == m1.meta["epochs"] == 8
    # the same global batch: two processes take half an epoch's steps each, the same count
    assert m2.meta["steps"] == m1.meta["steps"] == 8 * 4
    assert m2.train_mu.shape == (64, 3)
    l2, l1 = m2.history[-1]["total"], m1.history[-1]["total"]
    first = m1.history[0]["total"]
    assert l2 < 0.8 * first and l1 < 0.8 * first  # both learned
    assert abs(l2 - l1) / abs(l1) < 0.15, (l2, l1)
    # the file opens in the app and paints faces
    fm = FaceModel.open(two)
    faces = fm.decode(torch.zeros(2, 3))
    assert faces.shape[0] == 2


def test_a_time_budget_ends_both_processes_on_one_step_with_one_schedule(folder, tmp_path):
    """With --max-seconds each process has its own clock; the cosine schedule (the default)
    follows the fraction of the budget spent, so it must follow one clock for all of them, and
    both must stop after the same step, or their weights part (the run then refuses to save)."""
    out = tmp_path / "timed.pt"
    r = _train(folder, out, 2, "--max-seconds", "6", "--lr-schedule", "cosine")
    assert "weights identical on all 2 processes" in r.stderr
    mf = load_model_file(out)
    assert mf.meta["steps"] > 2  # it trained for the budget, not a step or two
    assert sorted(p.name for p in tmp_path.iterdir()) == ["timed.pt"]


def test_resume_across_processes(folder, tmp_path):
    out = tmp_path / "m.pt"
    _train(folder, out, 2, "--epochs", "2")
    _train(folder, out, 2, "--epochs", "3", "--resume", str(out))
    _train(folder, out, 1, "--epochs", "4", "--resume", str(out))  # and on one process
    mf = load_model_file(out)
    assert mf.meta["epochs"] == 4 and len(mf.history) == 4
    assert [h["epoch"] for h in mf.history] == [1, 2, 3, 4]


def test_the_sampler_gives_each_rank_its_share_and_one_rank_the_old_order():
    seed = lambda e: 1000 + e  # noqa: E731
    one = EpochSampler(10, SINGLE, seed)
    g = torch.Generator().manual_seed(1000)
    assert one.order().tolist() == torch.randperm(10, generator=g).tolist()
    shares = [EpochSampler(10, World(r, 3, r), seed) for r in range(3)]
    got = [s.order().tolist() for s in shares]
    assert all(len(x) == 4 for x in got)  # 10 padded to 12, 4 each
    assert set(sum(got, [])) == set(range(10))
    for s in shares:
        s.set_epoch(1)
    assert [s.order().tolist() for s in shares] != got  # a new order each epoch


def test_world_from_env():
    assert world_from_env({}) == SINGLE
    w = world_from_env({"WORLD_SIZE": "4", "RANK": "2", "LOCAL_RANK": "0"})
    assert (w.rank, w.world, w.local_rank, w.main, w.distributed) == (2, 4, 0, False, True)


def test_two_processes_stream_a_folder_through_one_cache(folder, tmp_path):
    from studio.engine.stream import FolderFaces

    out, cache = tmp_path / "m.pt", tmp_path / "cache"
    r = _train(folder, out, 2, "--epochs", "2", "--cache", str(cache), "--workers", "1")
    assert "weights identical on all 2 processes" in r.stderr
    # each process framed its own share of the faces into the one cache
    assert FolderFaces(folder, 16, 3, cache=cache).cached() == 64  # colour: the default
    mf = load_model_file(out)
    assert mf.dataset["streamed"] and mf.meta["epochs"] == 2 and mf.train_mu.shape == (64, 3)
