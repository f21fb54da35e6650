import codecs
import json

import pytest

from kaokore_mm.core.text import decode_text, parse_json, read_text

CSV = 'image,gender,status,set\n00000000.jpg,0,1,train\n'


@pytest.mark.parametrize(
    'data, enc',
    [
        (CSV.encode('utf-8'), 'utf-8'),
        (codecs.BOM_UTF8 + CSV.encode('utf-8'), 'utf-8'),  # Excel's "CSV UTF-8"
        (CSV.replace('\n', '\r\n').encode('utf-8'), 'utf-8'),  # Windows line ends
        (codecs.BOM_UTF8 + CSV.replace('\n', '\r\n').encode('utf-8'), 'utf-8'),
        (codecs.BOM_UTF16_LE + CSV.encode('utf-16-le'), 'utf-16-le'),  # Excel's "Unicode text"
        (CSV.replace('\n', '\r').encode('utf-8'), 'utf-8'),  # old Mac line ends
    ],
)
def test_spreadsheet_encodings_read_as_the_same_text(data, enc):
    assert decode_text(data) == (CSV, enc)


def test_shift_jis_as_japanese_excel_saves_it_and_files_in_no_known_encoding(tmp_path):
    text = '原典,絵巻\r\n'
    assert decode_text(text.encode('cp932')) == ('原典,絵巻\n', 'cp932')
    assert decode_text('原典'.encode('utf-8')) == ('原典', 'utf-8')  # UTF-8 first: valid UTF-8 is never re-read
    (tmp_path / 'bad.csv').write_bytes(b'\x81\xff\xfe\x80')
    with pytest.raises(ValueError, match='bad.csv: not text in UTF-8'):
        read_text(tmp_path / 'bad.csv')


def test_a_utf8_file_with_one_broken_line_is_not_reread_as_shift_jis():
    data = '原典=絵巻\n'.encode() + b'\xff\xfe broken\n' + b'plain\n'
    assert decode_text(data) == (None, 'utf-8')  # the reader reports the broken line, keeps the others
    assert decode_text(b'plain\n\xff\xfe broken\n') == (None, 'utf-8')  # not Shift-JIS either: stray bytes


def test_json_as_editors_save_it_and_what_is_not_json():
    doc = dict(images=[dict(file_name='絵巻.jpg')])
    text = json.dumps(doc, ensure_ascii=False)
    assert parse_json(text.encode('utf-8')) == doc
    assert parse_json(codecs.BOM_UTF8 + text.encode('utf-8')) == doc  # Notepad's UTF-8 (RFC 8259 lets a reader skip it)
    with pytest.raises(ValueError, match=r'^not UTF-8 JSON \('):
        parse_json(text.encode('cp932'))
    with pytest.raises(ValueError, match=r'^not UTF-8 JSON \(Expecting'):
        parse_json(b'{"images": [')
    with pytest.raises(RecursionError):  # named by the error boundary (utils.cli.input_error_message)
        parse_json(b'[' * 100000 + b']' * 100000)
