"""The quota advisor: recommend the yearly reserve quota catalog from a year of demand, and prove
it by replaying the year through the matching engine (docs/quotas.md).

- `advisor` (pure): a base-stock level per warehouse × material from the year's demand;
- `replay` (pure, with `optimizer.solve`): the year's weekly runs and urgent requests, with a
  set of quotas: on-time rate and average stock value;
- `inputs`: the window of batches, the demand history and the catalogs, read from the database;
- `service`: the use case — asked (`start_recommendation`), then computed
  (`finish_recommendation`: read, advise, replay, save, audit), both at once (`recommend_quotas`)
  or in the background (`recommend_in_background`) — and the reads;
- `workbook`: the recommendation as a draft quota catalog in the `quotas` import format.
"""

from supply.quotas.models import (
    RecommendationAsk,
    RecommendationDetail,
    RecommendationLinePublic,
    RecommendationPublic,
)
from supply.quotas.service import (
    Asked,
    computing,
    done_recommendation,
    get_recommendation,
    latest_recommendation,
    list_recommendations,
    recommend_in_background,
    recommend_quotas,
)
from supply.quotas.workbook import recommendation_workbook

__all__ = [
    "Asked",
    "RecommendationAsk",
    "RecommendationDetail",
    "RecommendationLinePublic",
    "RecommendationPublic",
    "computing",
    "done_recommendation",
    "get_recommendation",
    "latest_recommendation",
    "list_recommendations",
    "recommend_in_background",
    "recommend_quotas",
    "recommendation_workbook",
]
