"""Media in and out: frame sources (webcam, file, stream, image folder), sinks (annotated video,
results files) and the overlay drawing."""
