"""What the ERP sends (DESIGN §9, ``events/asyncapi.yaml``), read once for every service.

- :mod:`crm_common.erp.contract`: the error a reader raises when a message breaks the contract,
  the ``version`` every message carries, a value quoted safely in a reason;
- :mod:`crm_common.erp.money`: EUR and BGN, the fixed 1.95583, the conversions;
- :mod:`crm_common.erp.catalogue`: ``erp.catalog.product.upserted`` as an ``ErpProduct``;
- :mod:`crm_common.erp.tables`: the product groups' and products' tables a service keeps.

What a service stores beyond that, and what it does with a message that breaks the contract
(pricing dead-letters it, analytics parks it), stays in the service.
"""
