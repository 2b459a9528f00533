"""The page's parts, in gradio: forecast panels, the style sheet and the script; app.py assembles them.
The only layer that imports gradio."""
