"""The smallest job: writes an event log in whatever format the submit line asks for."""

from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("tiny").getOrCreate()
spark.range(0, 100).count()
spark.stop()
