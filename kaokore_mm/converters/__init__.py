"""Data in and out (plain Python, no mm* imports): KaoKore metadata -> page COCO (``kaokore_metadata``),
the IIIF page downloader (``iiif_download``), COCO and W3C Web Annotation imports (``import_pages``,
``web_annotation``) and IIIF Presentation manifests (``iiif_manifest``).
"""
