"""The admin's forms: each turns what an operator typed into the arguments of one action.

`lifecycle.py` holds the declare page and the incident page's forms that move an incident along
(acknowledge, change status or severity, post an update, resolve, reopen, close); `details.py`
the editable details and the forms for its people, notes, tasks and evidence; `base.py` the
`OperationForm` they build on and the fields they share; `catalog.py` the severity and type
pages and the escalation preview's choice. Every `OperationForm`'s `perform` calls exactly one
function of `incidents.actions`.
"""
