"""Form pieces every blueprint may use (a blueprint never imports another's):
`fields` (numbers in any digits, decimals, checkboxes, shared validators),
`choices` (the languages, each named in its own script),
`days` (days in either calendar and their club-local bounds), `confirm`
(a button's CSRF-only form)."""
