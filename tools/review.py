"""Review and correct the proposals of tools/annotate.py in the browser.

    python tools/review.py OUT [--host 127.0.0.1] [--port 8000] [--classifier CLS_CONFIG CLS_CKPT]

Serves OUT (the folder tools/annotate.py wrote): the page list at
http://HOST:PORT/, each page in an OpenSeadragon + Annotorious view, and
OUT/manifest.json with its W3C pages for Mirador. Corrections are saved as you
go into OUT/corrections/<page>.json (W3C AnnotationPages), with an action log
per page; fold them back with tools/merge_corrections.py --corrections OUT/corrections.
With --classifier (the status or gender classifier annotate.py proposed labels with), a
face you draw gets its label proposed too, the sure ones ready for the bulk confirmation.
"""

import argparse
import sys

from kaokore_mm.utils.cli import UserError, cli_main, number


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('out', help="tools/annotate.py's output folder")
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=number(int, 0, 65535), default=8000, help='0: a free port (the address is printed)')
    p.add_argument(
        '--allow-host',
        action='append',
        default=[],
        help='another host name the app is reached by (e.g. a machine name on the lab network); '
        'requests naming any other host are refused',
    )
    p.add_argument(
        '--classifier',
        nargs=2,
        metavar=('CONFIG', 'CKPT'),
        help='a status or gender classifier: the faces you draw get its label proposed',
    )
    p.add_argument('--device', default='cpu', help="the classifier's device (cpu, cuda, cuda:1)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from kaokore_mm.review import ReviewError
    from kaokore_mm.review.app import run

    labeler = None
    if args.classifier:
        from kaokore_mm.interpretation import FaceClassifier
        from kaokore_mm.review.box_labeler import BoxLabeler

        labeler = BoxLabeler(FaceClassifier(*args.classifier, device=args.device))
    try:
        run(args.out, host=args.host, port=args.port, allow_hosts=args.allow_host, labeler=labeler)
    except ReviewError as e:
        raise UserError(str(e)) from None


if __name__ == '__main__':
    sys.exit(cli_main(main))
