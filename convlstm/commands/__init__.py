"""What runs from the command line: training (the loop, its step, its losses), the Moving MNIST
evaluation, and the synthetic and real radar evaluations."""
