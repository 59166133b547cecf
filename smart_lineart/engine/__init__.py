"""The engine: grey sketch in, lineart out, any size, under a memory cap. Numpy and the
inference runtimes only: no Krita, no Qt (the CLI, the tests and the plugin share it).

- tiling: the tiling engine (`Engine`);
- preprocess: pixels to the network's input (shared with training);
- backends: OpenVINO and ONNX Runtime behind one interface;
- model_card: the model's card (presets, ranges, memory per pixel);
- memory: resident-memory readings;
- imageio: image files for the CLI (Pillow).
"""
