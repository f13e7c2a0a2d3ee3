"""Fake CRM servers written from the vendors' public documentation (the test oracle for
the CRM reader): HubSpot, Pipedrive, Zoho CRM, Salesforce and Dynamics 365 (Dataverse).

Each vendor module's docstring names the pages it follows and what it simplifies. Serve
one with :class:`fakecrm.server.FakeServer`, or use the fixtures in
:mod:`fakecrm.fixtures`.
"""
