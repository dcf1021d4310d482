"""The ERP simulator behind ``./crm erp-sim`` (and the last step of ``./crm seed``).

It plays the outside ERP of DESIGN.md section 9: a catalogue, then 24 months of orders, invoices,
credit notes and payments for the CRM's clients, as CloudEvents 1.0 envelopes of the ``erp.*``
types documented in ``events/asyncapi.yaml`` (as messages the platform receives). The envelopes
are produced as a stream (:class:`~crm_dev.erp_sim.generate.Simulation`) and either written as
NDJSON (:func:`~crm_dev.erp_sim.sinks.write_ndjson`) or published to the ``erp.events`` exchange
(:func:`~crm_dev.erp_sim.sinks.publish`).
"""

from crm_dev.erp_sim.generate import EVENT_TYPES, SOURCE, SimConfig, Simulation, Stats, simulate

__all__ = ["EVENT_TYPES", "SOURCE", "SimConfig", "Simulation", "Stats", "simulate"]
