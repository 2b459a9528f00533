"""Pictures of frames: GIF and WebM writers, labelled grids and side-by-side panels, the radar
colour scale, plots of scores."""
