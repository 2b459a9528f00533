"""The model and everything a forecast needs: the ConvLSTM cell and stack, the encoding–forecasting
network and its heads, the checkpoint's value contract, fitting frames to the model's grid,
loading a checkpoint and forecasting numpy frames. Imports only torch, numpy, safetensors and
huggingface_hub."""
