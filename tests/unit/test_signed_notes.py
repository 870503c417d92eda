from __future__ import annotations

import base64
import hashlib
import os
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.mldsa import MLDSA44PrivateKey

from audit.signing import (
    Ed25519NoteSigner,
    KeyFileError,
    checkpoint_text,
    from_private_text,
    load_signer,
    save_signer,
    sign_note,
)
from audit.verifier.note import (
    Checkpoint,
    NoteError,
    parse_checkpoint,
    parse_verifier_key,
    verify_note,
)

# The published example of golang.org/x/mod/sumdb/note (package documentation and note_test.go).
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIGNATURE_LINE = (
    "\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
GO_NOTE = GO_TEXT + "\n" + GO_SIGNATURE_LINE

ROOT = hashlib.sha256(b"root").digest()
ORIGIN = "aqp.example/ledger"


def go_key():
    return parse_verifier_key(GO_VKEY)


def test_a_note_signed_by_a_fresh_key_verifies_with_its_verifier_key():
    signer = Ed25519NoteSigner.generate(ORIGIN)
    text = checkpoint_text(ORIGIN, 3, ROOT)
    note = sign_note(text, [signer])
    assert verify_note(note, [parse_verifier_key(signer.verifier_key())]) == (text, [ORIGIN])


def test_the_go_example_key_signs_exactly_the_published_signature_line():
    signer = from_private_text(GO_SKEY)
    assert signer.key_id.hex() == "c74f20a3"
    assert signer.verifier_key() == GO_VKEY
    assert signer.private_text() == GO_SKEY
    assert sign_note(GO_TEXT, [signer]) == GO_NOTE


def test_the_go_example_note_verifies_with_the_published_verifier_key():
    assert verify_note(GO_NOTE, [go_key()]) == (GO_TEXT, ["PeterNeumann"])


def test_a_changed_byte_in_the_text_is_rejected():
    tampered = GO_NOTE.replace("answer", "answeR", 1)
    with pytest.raises(NoteError, match="does not verify"):
        verify_note(tampered, [go_key()])


def test_a_verifier_key_whose_key_id_does_not_match_its_key_is_rejected():
    with pytest.raises(NoteError, match="does not match"):
        parse_verifier_key(GO_VKEY.replace("c74f20a3", "c74f20a4"))


def test_a_verifier_key_under_another_name_is_rejected_because_the_key_id_binds_the_name():
    with pytest.raises(NoteError, match="does not match"):
        parse_verifier_key(GO_VKEY.replace("PeterNeumann", "PeterNoimann"))


def test_a_signature_line_with_a_wrong_key_id_is_not_the_known_key_so_the_note_is_unsigned():
    raw = bytearray(base64.b64decode(GO_SIGNATURE_LINE.split()[-1]))
    raw[0] ^= 0x01
    line = f"\u2014 PeterNeumann {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(NoteError, match="not signed by any known key"):
        verify_note(GO_TEXT + "\n" + line, [go_key()])


def test_a_signature_line_under_a_wrong_name_is_not_the_known_key_so_the_note_is_unsigned():
    note = GO_NOTE.replace("\u2014 PeterNeumann", "\u2014 PaulNeumann")
    with pytest.raises(NoteError, match="not signed by any known key"):
        verify_note(note, [go_key()])


def test_a_truncated_signature_is_rejected():
    encoded = GO_SIGNATURE_LINE.split()[-1]
    short = base64.b64encode(base64.b64decode(encoded)[:-4]).decode()
    with pytest.raises(NoteError, match="does not verify"):
        verify_note(GO_NOTE.replace(encoded, short), [go_key()])
    with pytest.raises(NoteError, match="base64"):
        verify_note(GO_NOTE.replace(encoded, encoded[:-3]), [go_key()])


def test_a_note_without_the_blank_line_before_its_signatures_is_rejected():
    with pytest.raises(NoteError, match="no blank line"):
        verify_note(GO_TEXT + GO_SIGNATURE_LINE, [go_key()])


def test_a_note_signed_by_no_known_key_is_rejected():
    stranger = Ed25519NoteSigner.generate("stranger.example/key")
    with pytest.raises(NoteError, match="not signed by any known key"):
        verify_note(GO_NOTE, [parse_verifier_key(stranger.verifier_key())])


def test_signatures_from_unknown_keys_are_ignored_beside_a_known_one():
    witness = Ed25519NoteSigner.generate("witness.example/w1")
    log = from_private_text(GO_SKEY)
    note = sign_note(GO_TEXT, [witness, log])
    assert verify_note(note, [go_key()]) == (GO_TEXT, ["PeterNeumann"])


def test_a_bad_signature_from_a_known_key_rejects_the_note_even_beside_a_good_one():
    witness = Ed25519NoteSigner.generate("witness.example/w1")
    good_line = sign_note(GO_TEXT, [witness]).split("\n\n")[-1]
    bad_line = sign_note("something else\n", [from_private_text(GO_SKEY)]).split("\n\n")[-1]
    note = GO_TEXT + "\n" + good_line + bad_line
    with pytest.raises(NoteError, match="'PeterNeumann' c74f20a3 does not verify"):
        verify_note(note, [go_key(), parse_verifier_key(witness.verifier_key())])


def test_two_signatures_from_the_same_known_key_are_rejected():
    with pytest.raises(NoteError, match="two signatures"):
        verify_note(GO_NOTE + GO_SIGNATURE_LINE, [go_key()])


def test_a_note_with_a_control_character_is_rejected():
    with pytest.raises(NoteError, match="control character"):
        verify_note(GO_NOTE.replace("problem,", "problem,\r"), [go_key()])


def test_a_verifier_key_of_an_unknown_algorithm_or_wrong_length_is_rejected():
    body = base64.b64encode(b"\x7f" + bytes(32)).decode()
    with pytest.raises(NoteError, match="unsupported signature algorithm"):
        parse_verifier_key(f"x+00000000+{body}")
    body = base64.b64encode(b"\x01" + bytes(31)).decode()
    with pytest.raises(NoteError, match="must be 32 bytes"):
        parse_verifier_key(f"x+00000000+{body}")


def test_a_private_key_whose_key_id_does_not_match_is_rejected():
    with pytest.raises(NoteError, match="does not match"):
        from_private_text(GO_SKEY.replace("c74f20a3", "00000000"))


def test_a_signer_never_shows_its_secret_in_its_repr():
    assert "AYEKF" not in repr(from_private_text(GO_SKEY))


def test_a_checkpoint_body_parses_into_origin_size_root_hash_and_extensions():
    text = f"{ORIGIN}\n20852163\n{base64.b64encode(ROOT).decode()}\nextension one\n"
    assert parse_checkpoint(text) == Checkpoint(ORIGIN, 20852163, ROOT, ["extension one"])
    assert checkpoint_text(ORIGIN, 20852163, ROOT, ["extension one"]) == text
    assert parse_checkpoint(checkpoint_text(ORIGIN, 0, ROOT)).size == 0


@pytest.mark.parametrize("size", ["-1", "01", "+1", "1e3", "", " 1", "0x10", "\u0661", str(2**64)])
def test_a_checkpoint_with_a_bad_tree_size_is_rejected(size):
    with pytest.raises(NoteError, match="tree size"):
        parse_checkpoint(f"{ORIGIN}\n{size}\n{base64.b64encode(ROOT).decode()}\n")


def test_a_checkpoint_with_a_root_hash_that_is_not_base64_is_rejected():
    with pytest.raises(NoteError, match="base64"):
        parse_checkpoint(f"{ORIGIN}\n1\nnot*base64!\n")


def test_a_checkpoint_with_a_root_hash_of_the_wrong_length_is_rejected():
    with pytest.raises(NoteError, match="32 bytes"):
        parse_checkpoint(f"{ORIGIN}\n1\n{base64.b64encode(ROOT[:31]).decode()}\n")


def test_a_checkpoint_without_a_trailing_newline_is_rejected():
    with pytest.raises(NoteError, match="end with a newline"):
        parse_checkpoint(f"{ORIGIN}\n1\n{base64.b64encode(ROOT).decode()}")


def test_a_checkpoint_with_missing_lines_or_an_empty_extension_is_rejected():
    with pytest.raises(NoteError, match="origin, a tree size and a root hash"):
        parse_checkpoint(f"{ORIGIN}\n1\n")
    with pytest.raises(NoteError, match="non-empty"):
        parse_checkpoint(f"{ORIGIN}\n1\n{base64.b64encode(ROOT).decode()}\n\n")


def test_checkpoint_text_refuses_fields_that_would_read_back_differently():
    with pytest.raises(NoteError, match="round trip"):
        checkpoint_text(ORIGIN, 1, ROOT, ["two\nlines"])
    with pytest.raises(NoteError):
        checkpoint_text(f"{ORIGIN}\n5", 1, ROOT)
    with pytest.raises(NoteError):
        checkpoint_text(ORIGIN, -1, ROOT)


def test_the_key_file_is_written_0600_in_a_0700_directory_and_reads_back(tmp_path):
    path = tmp_path / "keys" / "log.key"
    signer = from_private_text(GO_SKEY)
    save_signer(signer, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_signer(path).private_text() == GO_SKEY


def test_an_existing_key_file_is_never_overwritten(tmp_path):
    path = tmp_path / "log.key"
    save_signer(Ed25519NoteSigner.generate(ORIGIN), path)
    before = path.read_bytes()
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        save_signer(Ed25519NoteSigner.generate(ORIGIN), path)
    assert path.read_bytes() == before


def test_a_key_file_readable_by_group_or_others_is_refused_with_a_chmod_hint(tmp_path):
    path = tmp_path / "log.key"
    save_signer(Ed25519NoteSigner.generate(ORIGIN), path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_signer(path)


def test_after_rotation_a_note_signed_by_the_old_key_verifies_when_the_old_key_is_supplied():
    old, new = Ed25519NoteSigner.generate(ORIGIN), Ed25519NoteSigner.generate(ORIGIN)
    text = checkpoint_text(ORIGIN, 7, ROOT)
    note = sign_note(text, [old])
    old_key, new_key = parse_verifier_key(old.verifier_key()), parse_verifier_key(new.verifier_key())
    assert verify_note(note, [new_key, old_key]) == (text, [ORIGIN])
    with pytest.raises(NoteError, match="not signed by any known key"):
        verify_note(note, [new_key])


WITNESS = "witness.example/pq"


def mldsa44_key_id(key: MLDSA44PrivateKey) -> bytes:
    return hashlib.sha256(WITNESS.encode() + b"\n\x06" + key.public_key().public_bytes_raw()).digest()[:4]


def mldsa44_verifier_key(key: MLDSA44PrivateKey) -> str:
    body = base64.b64encode(b"\x06" + key.public_key().public_bytes_raw()).decode()
    return f"{WITNESS}+{mldsa44_key_id(key).hex()}+{body}"


def mldsa44_cosignature_line(key: MLDSA44PrivateKey, checkpoint: Checkpoint, timestamp: int) -> str:
    """Built straight from c2sp.org/tlog-cosignature, independently of the verifier."""
    def field(value: bytes) -> bytes:
        return bytes([len(value)]) + value

    when = timestamp.to_bytes(8, "big")
    message = (
        b"subtree/v1\n\x00"
        + field(WITNESS.encode())
        + when
        + field(checkpoint.origin.encode())
        + (0).to_bytes(8, "big")
        + checkpoint.size.to_bytes(8, "big")
        + checkpoint.root_hash
    )
    signature = mldsa44_key_id(key) + when + key.sign(message)
    return f"\u2014 {WITNESS} {base64.b64encode(signature).decode()}\n"


def test_an_ml_dsa_44_witness_cosignature_verifies_beside_the_log_signature():
    log, witness = Ed25519NoteSigner.generate(ORIGIN), MLDSA44PrivateKey.generate()
    text = checkpoint_text(ORIGIN, 42, ROOT)
    note = sign_note(text, [log]) + mldsa44_cosignature_line(witness, parse_checkpoint(text), 1_700_000_000)
    keys = [parse_verifier_key(log.verifier_key()), parse_verifier_key(mldsa44_verifier_key(witness))]
    assert verify_note(note, keys) == (text, [ORIGIN, WITNESS])


def test_an_ml_dsa_44_cosignature_over_another_tree_size_is_rejected():
    witness = MLDSA44PrivateKey.generate()
    text = checkpoint_text(ORIGIN, 42, ROOT)
    other = parse_checkpoint(checkpoint_text(ORIGIN, 43, ROOT))
    note = text + "\n" + mldsa44_cosignature_line(witness, other, 1)
    with pytest.raises(NoteError, match="does not verify"):
        verify_note(note, [parse_verifier_key(mldsa44_verifier_key(witness))])
