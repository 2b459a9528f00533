"""The web app's backend: the models it serves, links that reproduce a forecast, a comparison drawn
as animation, grid and downloads, and one function per request that the UI, the benchmarks and
the tests all call. No gradio here."""
