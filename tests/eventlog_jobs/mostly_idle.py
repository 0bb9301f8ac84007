"""Asks for two executors, then runs one tiny task at a time with long pauses between."""

import time

from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("mostly-idle").getOrCreate()
for _ in range(2):
    spark.range(0, 1000, numPartitions=1).count()
    time.sleep(8)
spark.stop()
