"""The editors' workspace: from what citizens asked and did not get to a reviewed,
published answer.

- ``tables``: the workspace's own tables (change sets, their examples and answer edits,
  inbox items already handled, jobs' states).
- ``inbox``: what went wrong, read from the basis records (masked text only; never a
  conversation with a sensitive topic or a safety hit), grouped by normalised text.
- ``checks``: what an example must pass before it is saved (personal data, near copies of
  the evaluation sets, duplicates).
- ``content``: the content writer (examples into a topic file, answer edits), the staging
  copy a change set is trained from, and the git commits of publish and rollback.
- ``changes``: change sets and their life cycle (draft → queued → training → testing →
  ready | failed → published).
- ``jobs``: the one background runner that validates, trains and gates queued change sets.
- ``registry``: the release registry's interface as the workspace uses it.
"""
