# Part of woodoo_webhook. License LGPL-3.
from . import models
