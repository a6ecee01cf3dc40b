"""The Redis cache the suite uses when CACHE_URL is set (CI's second pass): keys under a prefix of this process's own,
and clear() removes only those keys, so parallel pytest-xdist workers (and anyone else on the same Redis database)
do not empty each other's cache in the middle of a test."""

from django.core.cache.backends.redis import RedisCache


class WorkerRedisCache(RedisCache):
    def clear(self):
        client = self._cache.get_client(None, write=True)
        keys = list(client.scan_iter(match=f"{self.key_prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        return True
