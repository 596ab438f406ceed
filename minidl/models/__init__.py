"""Ready-made models built from minidl.nn: LeNet and a small VGG, MiniBERT, MiniGPT and a seq2seq Transformer."""
