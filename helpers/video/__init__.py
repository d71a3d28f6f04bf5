"""Video files and cameras: reading RGB frames (`reader`) and writing MP4 / GIF (`writer`), with OpenCV."""
