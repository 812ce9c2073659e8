"""standard_status: every vendor code of smsc becomes a status SMPP 3.4 defines."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from smsc.pdu.constants import STANDARD_FOR_VENDOR, CommandStatus, standard_status

S = CommandStatus
VENDOR = [s for s in S if 0x400 <= s <= 0x4FF]


def test_every_vendor_code_has_its_documented_standard_status() -> None:
    assert set(STANDARD_FOR_VENDOR) == set(VENDOR)
    assert standard_status(S.SMSC_RNOCREDIT) == S.ESME_RSUBMITFAIL
    assert standard_status(S.SMSC_RSENDERNOTREG) == S.ESME_RINVSRCADR
    assert standard_status(S.SMSC_RNOROUTE) == S.ESME_RINVDSTADR
    assert standard_status(S.SMSC_RTOOMANYPARTS) == S.ESME_RINVMSGLEN
    assert standard_status(S.SMSC_RACCOUNTDISABLED) == S.ESME_RBINDFAIL


@given(st.integers(min_value=0, max_value=0xFFFFFFFF))
def test_the_result_is_never_a_vendor_code_and_standard_codes_stay(status: int) -> None:
    mapped = standard_status(status)
    assert not 0x400 <= mapped <= 0x4FF
    if not 0x400 <= status <= 0x4FF:
        assert mapped == status
    else:
        assert mapped in set(S) and mapped < 0x400
