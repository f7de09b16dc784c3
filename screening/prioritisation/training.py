"""What the ranking model learns from: a stage's decisions turned into weighted labels."""

SETTLED_WEIGHT = 1.0
VOTE_WEIGHT = 0.5
CONFLICT_WEIGHT = 0.25

_OUTCOMES = {"include": 1, "exclude": 0}
_INCLUDE_LEANING = {"include", "maybe"}


def labels_from(outcomes, votes):
    """How the model is trained: which screening decisions it learns from, and how much
    each one counts.

    - A settled decision (the reviewers agreed, or the lead resolved their conflict) is the
      review's answer: it counts in full, whatever the individual votes were.
    - A record with votes but no settled decision yet (waiting for a second reviewer, or for
      the lead) already counts, at half weight: the ranking improves from the first vote
      instead of waiting for pairs to complete, but one reviewer can be wrong and the
      settled decision may still overturn the vote.
    - "Maybe" counts as an include vote: a maybe goes forward (as in Covidence), so to the
      model it is a record worth seeing.
    - Votes that disagree (include or maybe against exclude) count as an include at a
      quarter weight, whatever the head count. Missing a relevant record costs a review far
      more than screening an irrelevant one, and a record that one reviewer wanted probably
      resembles records the review wants; the low weight keeps a borderline record from
      pulling the ranking far while its conflict is open.
    - Records nobody has screened are not used. On top of these weights the model counts
      each exclude as a small fraction of an include, so that the few includes, not the many
      excludes, steer the ranking.

    Contract: outcomes {record_id: "include" | "exclude" | None} (None while unsettled) and
    votes {record_id: ["include" | "exclude" | "maybe", ...]} give {record_id: (label,
    weight)}, label 1 for include and 0 for exclude.
    """
    labels = {}
    for record_id, record_votes in votes.items():
        if not record_votes:
            continue
        unknown = set(record_votes) - _INCLUDE_LEANING - {"exclude"}
        if unknown:
            raise ValueError(f"Record {record_id}: unknown vote(s) {sorted(unknown)}")
        leaning = {vote in _INCLUDE_LEANING for vote in record_votes}
        if leaning == {True, False}:
            labels[record_id] = (1, CONFLICT_WEIGHT)
        else:
            labels[record_id] = (int(leaning.pop()), VOTE_WEIGHT)
    for record_id, outcome in outcomes.items():
        if outcome is None:
            continue
        if outcome not in _OUTCOMES:
            raise ValueError(f"Record {record_id}: unknown outcome {outcome!r}")
        labels[record_id] = (_OUTCOMES[outcome], SETTLED_WEIGHT)
    return labels
