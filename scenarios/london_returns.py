"""A London AQP care home's monthly quality return, every metric answered: the figures the
monthly-returns scenario and the tests start from.

The template is the shipped domain/monitoring/templates/london-aqp-care-home-monthly.json
(seed 000 s.6.2.3). These are Aster House's answers for April 2026 in
scenarios/make_monthly_returns.py (58 residents, one norovirus outbreak, 14 falls); a test
that needs other figures changes the few it is about (`{**CARE_HOME_RETURN, "falls": 9}`).
Scenario generators import it as `london_returns` (they run as scripts, from this folder);
tests as `scenarios.london_returns`.
"""

CARE_HOME_RETURN = {
    "residents": 58, "admissions_status": "open",
    "pressure_ulcers_total": 3, "pu_grade3_acquired": 1, "pu_grade3_on_admission": 1, "pu_grade4_acquired": 0,
    "pu_grade4_on_admission": 1, "pu_ungradable_acquired": 0, "pu_ungradable_on_admission": 0,
    "outbreaks_total": 1, "outbreaks_mrsa": 0, "outbreaks_c_difficile": 0, "outbreaks_norovirus": 1,
    "outbreaks_respiratory": 0, "outbreaks_other": 0, "residents_infected": 9,
    "serious_incidents_cqc": 1, "falls": 14, "residents_who_fell": 9, "hospital_admissions": 4, "ambulance_callouts": 6,
    "complaints_received": 2, "complaints_upheld": 1, "compliments": 5, "safeguarding_alerts": 1,
    "staff_total": 84, "nurses": 14, "care_staff": 52, "other_staff": 18, "agency_hours_percent": 7.5,
    "starters": 3, "leavers": 2, "vacancies": 4, "turnover_percent": 21.4, "registered_manager_in_post": True,
}
