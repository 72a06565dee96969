"""The quota advisor: recommend the yearly reserve quota catalog from a year of demand, and prove
it by replaying the year through the matching engine (docs/quotas.md).

- `advisor` (pure): a base-stock level per warehouse × material from the year's demand;
- `replay` (pure, with `optimizer.solve`): the year's weekly runs and urgent requests, with a
  set of quotas: on-time rate and average stock value;
- `inputs`: the window of batches, the demand history and the catalogs, read from the database;
- `service`: `recommend_quotas`, the use case (read, advise, replay, save, audit), and reads;
- `workbook`: the recommendation as a draft quota catalog in the `quotas` import format.
"""

from supply.quotas.models import (
    RecommendationAsk,
    RecommendationDetail,
    RecommendationLinePublic,
    RecommendationPublic,
)
from supply.quotas.service import (
    get_recommendation,
    latest_recommendation,
    list_recommendations,
    recommend_quotas,
)
from supply.quotas.workbook import recommendation_workbook

__all__ = [
    "RecommendationAsk",
    "RecommendationDetail",
    "RecommendationLinePublic",
    "RecommendationPublic",
    "get_recommendation",
    "latest_recommendation",
    "list_recommendations",
    "recommend_quotas",
    "recommendation_workbook",
]
