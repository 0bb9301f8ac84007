"""Caches a dataset larger than its executor's storage and execution memory, then reads it twice."""

from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("cache-large").getOrCreate()
data = spark.range(0, 400_000, numPartitions=12).selectExpr("id", "sha2(cast(id as string), 256) as h", "sha2(cast(id * 7 as string), 256) as g")
data.cache()
data.count()
data.groupBy((data.id % 10).alias("k")).count().collect()
data.filter(data.h.startswith("a")).count()
spark.stop()
