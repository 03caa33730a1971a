"""The Face Studio engine: the VAE, data, training, model files, latent tools and export.

Free of Qt by design (as napari keeps its model layer free of its Qt layer): everything here runs
headless, from the command line, a script, torchrun, or the window's engine thread.
The submodules are imported on use; importing this package itself loads nothing heavy.
"""
