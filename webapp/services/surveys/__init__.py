"""Surveys: NPS (0–10, "would you recommend us?") and CSAT (1–5) questions
that staff send to a segment (`invites.send_survey`, a job for the rest of a big
one) or that ask a member after a purchase or a redemption (`invites.on_purchase`,
`invites.on_redemption`, in that act's transaction). Members answer from the
link in their message, once (`answers`); staff read the figures (`results`,
arithmetic in `rules`). Staff writes are audited (`manage`)."""

from webapp.services.errors import NotFound
from webapp.services.surveys.answers import (
    Answered,
    Invitation,
    ScoreInvalid,
    SurveyClosed,
    add_comment,
    answer_survey,
    invitation,
)
from webapp.services.surveys.invites import (
    CHUNK,
    invite_segment,
    on_purchase,
    on_redemption,
    send_survey,
    survey_path,
)
from webapp.services.surveys.manage import (
    SurveyDraft,
    SurveyInvalid,
    SurveyStateConflict,
    activate_survey,
    close_survey,
    create_survey,
    get_survey,
    survey_list,
    update_survey,
)

__all__ = [
    "CHUNK",
    "Answered",
    "Invitation",
    "NotFound",
    "ScoreInvalid",
    "SurveyClosed",
    "SurveyDraft",
    "SurveyInvalid",
    "SurveyStateConflict",
    "activate_survey",
    "add_comment",
    "answer_survey",
    "close_survey",
    "create_survey",
    "get_survey",
    "invitation",
    "invite_segment",
    "on_purchase",
    "on_redemption",
    "send_survey",
    "survey_list",
    "survey_path",
    "update_survey",
]
