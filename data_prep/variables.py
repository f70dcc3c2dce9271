"""What each panel variable is: long name, source, lag and a one-line description (stored as netCDF attrs)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variable:
    long_name: str
    source: str
    lag: int
    description: str


SSF = "SSF-derived substitute: Mehrl & Choulis (2023) replication file, cbcount (De Bruin SSF not available)"
ATOP = "ATOP 5.1 (Leeds et al. 2002)"
POLITY = "Polity5 p5v2018, revised release (democracyData polity5)"
THREAT = "own computation: ATOP 5.1 S-scores, COW contiguity v3.2, COW majors, NMC v6 CINC (no colonial contiguity)"

VARIABLES: dict[str, Variable] = {
    "new_defense_pact": Variable("New bilateral defense pact", ATOP, 0,
                                 "1 if A and B found a bilateral ATOP defense pact (bilat, defense) in year t"),
    "counterweights_a": Variable("Counterweights, A (count)", SSF, 1, "number of counterweights in A at t-1"),
    "counterbalancing_a": Variable("Counterbalancing, A", SSF, 1, "log(1 + counterweights in A) at t-1"),
    "new_counterweight_a": Variable("New counterweight, A", SSF, 0,
                                    "1 if A's counterweight count rose from t-1 to t (lower bound on creation)"),
    "threat_a": Variable("External threat, A", THREAT, 1,
                         "sum of CINC of A's potential adversaries in its politically relevant environment, t-1"),
    "threat_b": Variable("External threat, B", THREAT, 1,
                         "sum of CINC of B's potential adversaries in its politically relevant environment, t-1"),
    "shared_defense_pact": Variable("Shared defense pacts", "ATOP 5.1 dyad-year flags (peacesciencer)", 1,
                                    "1 if any bilateral or multilateral defense pact links A and B at t-1"),
    "regime_difference": Variable("Regime difference", POLITY, 1, "|polity2 A - polity2 B| at t-1"),
    "recent_coup_a": Variable("Recent coup, A", "Powell & Thyne coups, release 2022-11-29", 0,
                              "1 if any coup attempt (failed or successful) in A in years t-4..t"),
    "new_regime_a": Variable("New regime, A", POLITY, 0, "1 if a Polity regime began in A (byear) in years t-4..t"),
    "military_regime_a": Variable("Military regime, A", "GWF autocratic regimes 1.2", 1,
                                  "1 if A was a pure military regime (hybrids excluded) at t-1"),
    "concessions_a": Variable("Concessions, A", "ATOP 5.1 member level; UNVERIFIED against Johnson (2015)", 0,
                              "number of foreign-policy concessions A accepts in the new pact (missing without one)"),
    "concessions_b": Variable("Concessions, B", "ATOP 5.1 member level; UNVERIFIED against Johnson (2015)", 0,
                              "number of foreign-policy concessions B accepts in the new pact (missing without one)"),
    "concessions_a_missing": Variable("Concession items missing, A", "ATOP 5.1 member level", 0,
                                      "number of concession items whose ATOP code is missing for A (counted as 0)"),
    "concessions_b_missing": Variable("Concession items missing, B", "ATOP 5.1 member level", 0,
                                      "number of concession items whose ATOP code is missing for B (counted as 0)"),
    "polity2_a": Variable("Polity2, A", POLITY, 0, "combined Polity score of A in year t"),
    "polity2_b": Variable("Polity2, B", POLITY, 0, "combined Polity score of B in year t"),
    "joint_democracy": Variable("Joint democracy", POLITY, 1, "1 if both polity2 >= 7 at t-1"),
    "cinc_a": Variable("CINC, A", "COW NMC v6", 1, "composite index of national capability of A at t-1"),
    "cinc_b": Variable("CINC, B", "COW NMC v6", 1, "composite index of national capability of B at t-1"),
    "milex_change_a": Variable("Change in military expenditure, A", "COW NMC v6", 1,
                               "milex(t-1) - milex(t-2) of A, thousands of current USD"),
    "milper_change_a": Variable("Change in military personnel, A", "COW NMC v6", 1,
                                "milper(t-1) - milper(t-2) of A, thousands"),
    "recent_mid_a": Variable("Recent MID, A", "Gibler-Miller-Little MIDs (peacesciencer)", 0,
                             "1 if A was in an ongoing MID in years t-4..t"),
    "recent_mid_b": Variable("Recent MID, B", "Gibler-Miller-Little MIDs (peacesciencer)", 0,
                             "1 if B was in an ongoing MID in years t-4..t"),
    "rivalries_a": Variable("Strategic rivalries, A", "Thompson & Dreyer (2011) (peacesciencer)", 1,
                            "number of strategic rivalries of A at t-1"),
    "rivalries_b": Variable("Strategic rivalries, B", "Thompson & Dreyer (2011) (peacesciencer)", 1,
                            "number of strategic rivalries of B at t-1"),
}

CONTROLS = ("shared_defense_pact", "regime_difference", "recent_coup_a", "new_regime_a", "military_regime_a")
CORE = ("new_defense_pact", "counterbalancing_a", "threat_a", "threat_b")

# ------------------------------------------------------------------------------ country-year design (Rahman 2026)
DCAD = "DCAD v1.0 (Kinne 2020), agreement-level file"
GWF = "GWF autocratic regimes 1.2"
COUPS = "Powell & Thyne coups, release 2022-11-29"
MIDS = "Gibler-Miller-Little MIDs (peacesciencer)"

COUNTRY_YEAR_VARIABLES: dict[str, Variable] = {
    "coup_attempt": Variable("Coup attempt", COUPS, 0, "1 if any coup attempt (failed or successful) in year t"),
    "coup_success": Variable("Successful coup", COUPS, 0, "1 if a successful coup in year t"),
    "any_dca": Variable("Any DCA", DCAD, 1, "1 if the state had at least one DCA in force at t-1"),
    "dca_count": Variable("DCAs in force", DCAD, 1, "number of DCAs in force at t-1"),
    "dca_general": Variable("General DCAs in force", DCAD, 1, "number of general (framework) DCAs in force at t-1"),
    "dca_sector": Variable("Sector DCAs in force", DCAD, 1, "number of sector-specific DCAs in force at t-1"),
    "polity2": Variable("Polity2", POLITY, 1, "combined Polity score at t-1"),
    "military_regime": Variable("Military regime", GWF, 1, "1 if a pure military regime (GWF) at t-1"),
    "personalist_regime": Variable("Personalist regime", GWF, 1,
                                   "1 if a personalist regime or a hybrid with a personalist element at t-1"),
    "party_regime": Variable("Party regime", GWF, 1, "1 if a party or party-military regime at t-1"),
    "monarchy": Variable("Monarchy", GWF, 1, "1 if a monarchy at t-1"),
    "years_since_coup": Variable("Years since last coup attempt", COUPS, 0,
                                 "years since the last coup attempt before t (from 1950 or independence)"),
    "counterbalancing": Variable("Counterbalancing", SSF, 1, "log(1 + counterweights) at t-1"),
    "cinc": Variable("CINC", "COW NMC v6", 1, "composite index of national capability at t-1"),
    "military_personnel_pc": Variable("Military personnel per 1,000 people", "COW NMC v6", 1,
                                      "milper / tpop x 1,000 at t-1"),
    "mid_last_year": Variable("MID in the past year", MIDS, 1, "1 if the state was in an ongoing MID at t-1"),
    "defense_pact": Variable("Any defense pact", "ATOP 5.1 dyad-year flags (peacesciencer)", 1,
                             "1 if the state had any bilateral or multilateral defense pact in force at t-1"),
}
COUNTRY_YEAR_CORE = ("coup_attempt", "any_dca")
COUNTRY_YEAR_CONTROLS = ("polity2", "military_regime", "personalist_regime", "party_regime", "monarchy",
                         "years_since_coup", "cinc", "military_personnel_pc", "mid_last_year", "defense_pact")
