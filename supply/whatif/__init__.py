"""What-if on a weekly plan (假设分析): a run's instance (or the current state) with changes
applied — a supplier late, an agreement line gone, stock added or removed, a quota changed, a
warehouse closed, extra projects, transport days — solved and compared with the base. Nothing in
the database changes but the scenario's own record (docs/whatif.md).

What others may call:

- `create_scenario(engine=…, what=WhatIf(…), …)`, `get_scenario`, `list_scenarios`,
  `replay_scenario`, `scenario_file` (supply.whatif.service);
- reading changes: `read_changes(content, file_name)` (a JSON list or a workbook with the sheet
  变更 and, for extra projects, the sheets 项目 and 需求明细), `located_changes(data)`;
- the models: `Scenario`, `ScenarioCreate`, `ScenarioPublic`, `ScenarioSummary`,
  `ScenarioReplay` (supply.whatif.models).
"""

from supply.whatif.changes import KIND_ZH, Located, located_changes
from supply.whatif.files import read_changes, read_projects, scenario_workbook, template_workbook
from supply.whatif.models import (
    Scenario,
    ScenarioCreate,
    ScenarioPublic,
    ScenarioReplay,
    ScenarioSummary,
)
from supply.whatif.service import (
    WhatIf,
    create_scenario,
    get_scenario,
    list_scenarios,
    replay_scenario,
    scenario_file,
)

__all__ = [
    "KIND_ZH",
    "Located",
    "Scenario",
    "ScenarioCreate",
    "ScenarioPublic",
    "ScenarioReplay",
    "ScenarioSummary",
    "WhatIf",
    "create_scenario",
    "get_scenario",
    "list_scenarios",
    "located_changes",
    "read_changes",
    "read_projects",
    "replay_scenario",
    "scenario_file",
    "scenario_workbook",
    "template_workbook",
]
