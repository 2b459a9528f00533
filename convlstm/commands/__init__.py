"""What runs from the command line: training (the loop, and what it uses: its config, data, schedules,
step, losses, validation, run record and run control), the Moving MNIST evaluation, and the synthetic
and real radar evaluations."""
