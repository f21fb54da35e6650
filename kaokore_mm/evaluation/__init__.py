from .face_detection_metric import FaceDetectionMetric

__all__ = ['FaceDetectionMetric']
