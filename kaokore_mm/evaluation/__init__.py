"""Page-level evaluation: the face detection metric and the page predictions dump."""

from .dump_page_results import DumpPageResults
from .face_detection_metric import FaceDetectionMetric

__all__ = ['DumpPageResults', 'FaceDetectionMetric']
