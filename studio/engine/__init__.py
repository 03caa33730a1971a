"""The Face Studio engine: the VAE, data, training, model files, latent tools and export.

Free of Qt by design (as napari keeps its model layer free of its Qt layer): everything here runs
headless, from the command line, a script, torchrun, or the window's engine thread.
The submodules are imported on use; importing this package itself loads nothing heavy.
"""

MODULES = ("errors", "fields", "files", "requests", "model", "data", "squares", "detectors",
           "faces", "align", "stream", "checkpoint", "schema", "session", "training",
           "distributed", "run", "latent", "directions", "atlas", "jobs", "devices",
           "train_config", "feeding", "critic", "recovery",
           "export", "inference", "quick_decode", "evaluate", "service", "kept", "keeping",
           "keep_job")
