"""Commands as data: the one tagged union of every context's commands.

Each command is a msgspec Struct whose `type` tag names it (`competition.open`,
`tender.submit`, `score.record`...), defined in its bounded context's `commands.py`. The
same union decodes scenario files, CLI input and HTTP bodies.
"""

from __future__ import annotations

from typing import Union

from domain.kernel.command_types import Command
from domain.contracts.commands import CONTRACT_COMMANDS
from domain.kernel.data_subjects import ErasePersonalData
from domain.foi.commands import FOI_COMMANDS
from domain.monitoring.commands import KPI_COMMANDS
from domain.procurement.commands import PROCUREMENT_COMMANDS
from domain.providers.commands import PROVIDER_COMMANDS
from domain.monitoring.commands import RETURN_COMMANDS
from domain.monitoring.commands import VISIT_COMMANDS
from domain.past_notices.commands import PAST_NOTICE_COMMANDS
from domain.scheduling.commands import SCHEDULING_COMMANDS

AnyCommand = Union[(*PROCUREMENT_COMMANDS, *CONTRACT_COMMANDS, *PROVIDER_COMMANDS, *RETURN_COMMANDS, *VISIT_COMMANDS, *KPI_COMMANDS, *FOI_COMMANDS, *PAST_NOTICE_COMMANDS, *SCHEDULING_COMMANDS, ErasePersonalData)]  # type: ignore[valid-type]

COMMAND_TYPES: dict[str, type[Command]] = {
    cls.__struct_config__.tag: cls for cls in AnyCommand.__args__  # type: ignore[attr-defined]
}
