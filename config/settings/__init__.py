"""Settings, all read from the environment, split by job (DJANGO_SETTINGS_MODULE
stays `config.settings`). Later parts read earlier ones (PRODUCTION, VAR_DIR,
CLINIC_TIME_ZONE...), so the order below matters.
"""

from config.settings.api import *  # noqa: F403
from config.settings.base import *  # noqa: F403
from config.settings.celery import *  # noqa: F403
from config.settings.clinic import *  # noqa: F403
from config.settings.feeds import *  # noqa: F403
from config.settings.security import *  # noqa: F403
