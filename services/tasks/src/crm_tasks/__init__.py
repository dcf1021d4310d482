"""CRM tasks service: tasks and commitments, their workflow, attachments in GridFS."""
